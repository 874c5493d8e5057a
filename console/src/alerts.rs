//! The alert API: the analyst's queue (list, detail, status, assignment, comments), the live
//! stream (server-sent events), suppressions and dashboard counts.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /api/v1/alerts` | a page of alerts: `{alerts, total, next}` (filters below) |
//! | `GET /api/v1/alerts/summary` | counts by status and severity (`?org=`) |
//! | `GET /api/v1/alerts/stream` | server-sent events: `alert` (changed alert), `lagged` |
//! | `GET /api/v1/alerts/{id}` | `{alert, history}` |
//! | `POST /api/v1/alerts/{id}/status` | `{"status": "open"\|"acknowledged"\|"closed", "comment"?}` |
//! | `POST /api/v1/alerts/{id}/assign` | `{"assignee": "name" \| null, "comment"?}` |
//! | `POST /api/v1/alerts/{id}/comments` | `{"text": "…"}` (201) |
//! | `GET /api/v1/suppressions` | active ones; `?all=1` also the expired and deleted |
//! | `POST /api/v1/suppressions` | `{"rule_id"?, "matchers": {field: value}, "reason", "expires_at"}` (201) |
//! | `DELETE /api/v1/suppressions/{id}` | end it now |
//!
//! List filters: `status` (repeatable or comma-separated), `severity` (minimum: a level name or
//! a 0–100 score), `rule`, `kind` (repeatable or comma-separated), `org`, `assignee`, `q` (text
//! in the rule title, rule id or entity values), `from`/`to` (RFC 3339: alerts active in the
//! range), `sort` (`last_seen`, `first_seen`, `severity`, `count`, `updated_at`), `order`
//! (`desc`, `asc`), `limit` (1–500, default 50), and `cursor` (the previous page's `next`) or
//! `offset`. Unknown parameters are a 400, so a typo never silently widens a filter.
//!
//! Workflow changes are made by the user named in the `X-Sen-User` header (letters, digits and
//! `. _ @ -`, at most 64; default `analyst`). There is no login yet: until console
//! authentication lands the header is trusted, as is everything else on this loopback-bound
//! API. Every change is recorded in the alert's history and published on the live feed, so
//! every open console sees it.
//!
//! Store calls block (SQLite) and run on the blocking pool, never on the reactor.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Utc};
use futures::Stream;
use sen_analyzer::alerts::store::{
    AlertFeed, AlertQuery, AlertSort, AlertStore, MAX_LIST_LIMIT, NewSuppression, PageStart,
    StoreError, StoredAlert, valid_actor,
};
use sen_analyzer::alerts::{AlertStatus, DetectionKind, Level};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::{Semaphore, broadcast, watch};

use crate::{ApiError, AppState};

/// The actor of workflow changes when no `X-Sen-User` header is sent.
pub const DEFAULT_ACTOR: &str = "analyst";
/// Largest JSON body accepted by the alert and suppression routes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the console needs to serve alerts: the store, the live feed and stream limits.
#[derive(Clone)]
pub struct AlertsApi {
    store: Arc<AlertStore>,
    feed: AlertFeed,
    keep_alive: Duration,
    stream_slots: Arc<Semaphore>,
    /// The alert index (Tantivy), searchable through `/api/v1/search?index=alerts`.
    pub(crate) index: Option<Arc<sen_analyzer::index::IndexStore>>,
    /// Threat-intel feeds (`/api/v1/intel/feeds`), when configured.
    pub(crate) intel: Option<Arc<sen_analyzer::intel::IntelManager>>,
}

impl std::fmt::Debug for AlertsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertsApi")
            .field("store", &self.store)
            .field("feed", &self.feed)
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl AlertsApi {
    /// Live streams served at once by default; more get 503.
    pub const DEFAULT_MAX_STREAMS: usize = 256;
    /// Keep-alive comment interval of the live stream by default.
    pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

    /// The API over `store`, streaming what is published on `feed`.
    pub fn new(store: Arc<AlertStore>, feed: AlertFeed) -> AlertsApi {
        AlertsApi {
            store,
            feed,
            keep_alive: AlertsApi::DEFAULT_KEEP_ALIVE,
            stream_slots: Arc::new(Semaphore::new(AlertsApi::DEFAULT_MAX_STREAMS)),
            index: None,
            intel: None,
        }
    }

    /// Serve the threat-intel feeds' status and on-demand refresh.
    pub fn with_intel(mut self, intel: Arc<sen_analyzer::intel::IntelManager>) -> AlertsApi {
        self.intel = Some(intel);
        self
    }

    /// Make the alert index searchable (`index=alerts` on search, histogram and top values).
    pub fn with_index(mut self, index: Arc<sen_analyzer::index::IndexStore>) -> AlertsApi {
        self.index = Some(index);
        self
    }

    /// Send a keep-alive comment on idle streams this often (at least 1 s).
    pub fn with_keep_alive(mut self, every: Duration) -> AlertsApi {
        self.keep_alive = every.max(Duration::from_secs(1));
        self
    }

    /// Serve at most `n` live streams at once (at least 1).
    pub fn with_max_streams(mut self, n: usize) -> AlertsApi {
        self.stream_slots = Arc::new(Semaphore::new(n.max(1)));
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<AlertStore> {
        &self.store
    }

    /// The live feed.
    pub fn feed(&self) -> &AlertFeed {
        &self.feed
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => {
                ApiError::Status(StatusCode::NOT_FOUND, e.to_string(), None)
            }
            StoreError::Invalid { .. } => ApiError::BadRequest(e.to_string(), None),
            StoreError::Transition { .. } | StoreError::Conflict(_) => {
                ApiError::Status(StatusCode::CONFLICT, e.to_string(), None)
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The alert and suppression routes (merged into the console's router).
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/intel/feeds", get(intel_feeds))
        .route("/api/v1/intel/feeds/{name}/refresh", post(intel_refresh))
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/summary", get(summary))
        .route("/api/v1/alerts/stream", get(stream))
        .route("/api/v1/alerts/{id}", get(get_one))
        .route("/api/v1/alerts/{id}/status", post(set_status))
        .route("/api/v1/alerts/{id}/assign", post(assign))
        .route("/api/v1/alerts/{id}/comments", post(comment))
        .route("/api/v1/suppressions", get(list_suppressions).post(add_suppression))
        .route("/api/v1/suppressions/{id}", delete(delete_suppression))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn api(st: &AppState) -> Result<&AlertsApi, ApiError> {
    st.alerts.as_ref().ok_or_else(|| {
        ApiError::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            "alerting is not enabled on this server (no alert store is configured)".into(),
            None,
        )
    })
}

/// Run a store call on the blocking pool.
async fn run<T: Send + 'static>(
    api: &AlertsApi,
    f: impl FnOnce(&AlertStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = api.store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| ApiError::Internal(format!("alert store task failed: {e}")))?
        .map_err(ApiError::from)
}

/// The user making a change: `X-Sen-User`, validated, or [`DEFAULT_ACTOR`].
fn actor(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(v) = headers.get("x-sen-user") else {
        return Ok(DEFAULT_ACTOR.to_owned());
    };
    match v.to_str().map(str::trim) {
        Ok(name) if valid_actor(name) => Ok(name.to_owned()),
        _ => Err(ApiError::BadRequest(
            "`X-Sen-User` must be 1 to 64 letters, digits, `.`, `_`, `@` or `-`".into(),
            None,
        )),
    }
}

/// A JSON body of type `T` (unknown fields are an error). The content type must be JSON: a
/// cross-site HTML form cannot send that without a CORS preflight, which this API never
/// grants, so a page elsewhere cannot make the analyst's browser change alerts.
fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, ApiError> {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::Status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON with `Content-Type: application/json`".into(),
            None,
        ));
    }
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("a JSON body is required".into(), None));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}"), None))
}

fn query_pairs(
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|e| ApiError::BadRequest(format!("invalid query string: {}", e.body_text()), None))
}

/// Query parameters, checked against the names a route knows.
struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn new(pairs: Vec<(String, String)>, known: &[&str]) -> Result<Params, ApiError> {
        for (k, _) in &pairs {
            if !known.contains(&k.as_str()) {
                let shown: String = k.chars().take(64).collect();
                return Err(ApiError::BadRequest(
                    format!("unknown parameter `{shown}` (known: {})", known.join(", ")),
                    None,
                ));
            }
        }
        Ok(Params { pairs })
    }

    /// A single-valued parameter (blank = absent).
    fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut it = self.pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim());
        let first = it.next();
        if it.next().is_some() {
            return Err(ApiError::BadRequest(format!("`{name}` is given more than once"), None));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// A multi-valued parameter: repeated and/or comma-separated.
    fn many(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn parse_many<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ApiError> {
        let vals = self.many(name);
        if vals.len() > 16 {
            return Err(ApiError::BadRequest(format!("too many `{name}` values"), None));
        }
        vals.into_iter()
            .map(|v| parse(v).map_err(|e| ApiError::BadRequest(format!("`{name}`: {e}"), None)))
            .collect()
    }
}

fn parse_time(name: &str, v: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    v.map(|s| {
        sen_analyzer::index::query::parse_time(s).ok_or_else(|| {
            let shown: String = s.chars().take(64).collect();
            ApiError::BadRequest(format!("`{name}` is not an RFC 3339 time: {shown}"), None)
        })
    })
    .transpose()
}

/// A minimum severity: a level name (`high`) or a score (`0`–`100`).
fn parse_severity(v: &str) -> Result<u8, ApiError> {
    if let Ok(n) = v.parse::<u8>()
        && n <= 100
    {
        return Ok(n);
    }
    v.parse::<Level>().map(Level::score).map_err(|_| {
        let shown: String = v.chars().take(64).collect();
        ApiError::BadRequest(
            format!(
                "`severity` must be informational, low, medium, high, critical or a score \
                 0–100, not `{shown}`"
            ),
            None,
        )
    })
}

fn parse_limit(v: Option<&str>) -> Result<usize, ApiError> {
    match v {
        None => Ok(50),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(
                format!("`limit` must be an integer from 1 to {MAX_LIST_LIMIT}"),
                None,
            )),
        },
    }
}

const LIST_PARAMS: [&str; 14] = [
    "status", "severity", "rule", "kind", "org", "assignee", "q", "from", "to", "sort", "order",
    "limit", "cursor", "offset",
];

fn alert_query(p: &Params) -> Result<AlertQuery, ApiError> {
    let statuses =
        p.parse_many("status", |s| s.parse::<AlertStatus>().map_err(|e| e.to_string()))?;
    let kinds = p.parse_many("kind", |s| s.parse::<DetectionKind>().map_err(|e| e.to_string()))?;
    let start = match (p.one("cursor")?, p.one("offset")?) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest("give `cursor` or `offset`, not both".into(), None));
        }
        (Some(c), None) => PageStart::Cursor(c.to_owned()),
        (None, Some(o)) => PageStart::Offset(o.parse::<usize>().map_err(|_| {
            ApiError::BadRequest("`offset` must be a non-negative integer".into(), None)
        })?),
        (None, None) => PageStart::Offset(0),
    };
    let ascending = match p.one("order")? {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return Err(ApiError::BadRequest("`order` must be asc or desc".into(), None)),
    };
    Ok(AlertQuery {
        statuses,
        min_severity: p.one("severity")?.map(parse_severity).transpose()?,
        rule_id: p.one("rule")?.map(str::to_owned),
        kinds,
        organization: p.one("org")?.map(str::to_owned),
        assignee: p.one("assignee")?.map(str::to_owned),
        from: parse_time("from", p.one("from")?)?,
        to: parse_time("to", p.one("to")?)?,
        text: p.one("q")?.map(str::to_owned),
        sort: p.one("sort")?.map(str::parse::<AlertSort>).transpose()?.unwrap_or_default(),
        ascending,
        limit: parse_limit(p.one("limit")?)?,
        start,
    })
}

async fn list(
    State(st): State<Arc<AppState>>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let p = Params::new(query_pairs(q)?, &LIST_PARAMS)?;
    let query = alert_query(&p)?;
    let page = run(api, move |s| s.list(&query)).await?;
    Ok(axum::Json(page).into_response())
}

async fn summary(
    State(st): State<Arc<AppState>>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let p = Params::new(query_pairs(q)?, &["org"])?;
    let org = p.one("org")?.map(str::to_owned);
    let counts = run(api, move |s| s.counts_by_status_and_severity(org.as_deref())).await?;
    Ok(axum::Json(counts).into_response())
}

async fn get_one(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let (alert, history) = run(api, move |s| s.get_with_history(&id)).await?;
    Ok(axum::Json(json!({ "alert": alert, "history": history })).into_response())
}

/// After a workflow change: publish the alert, answer with it and its history.
async fn changed(
    api: &AlertsApi,
    status: StatusCode,
    alert: StoredAlert,
) -> Result<Response, ApiError> {
    api.feed.publish(alert.clone());
    let id = alert.alert.id.clone();
    let history = run(api, move |s| s.history(&id)).await?;
    Ok((status, axum::Json(json!({ "alert": alert, "history": history }))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: AlertStatus,
    #[serde(default)]
    comment: Option<String>,
}

async fn set_status(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let who = actor(&headers)?;
    let b: StatusBody = body(&headers, &bytes)?;
    let alert = run(api, move |s| s.set_status(&id, b.status, &who, b.comment.as_deref())).await?;
    changed(api, StatusCode::OK, alert).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    /// Required; `null` unassigns.
    #[serde(deserialize_with = "nullable")]
    assignee: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

/// An `Option` field that must be present (`null` allowed): with `deserialize_with`, serde
/// reports a missing field instead of reading it as `None`.
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

async fn assign(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let who = actor(&headers)?;
    let b: AssignBody = body(&headers, &bytes)?;
    let assignee = b.assignee.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    let alert =
        run(api, move |s| s.assign(&id, &who, assignee.as_deref(), b.comment.as_deref())).await?;
    changed(api, StatusCode::OK, alert).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    text: String,
}

async fn comment(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let who = actor(&headers)?;
    let b: CommentBody = body(&headers, &bytes)?;
    let (_, alert) = run(api, move |s| s.comment(&id, &who, &b.text)).await?;
    changed(api, StatusCode::CREATED, alert).await
}

async fn list_suppressions(
    State(st): State<Arc<AppState>>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let p = Params::new(query_pairs(q)?, &["all"])?;
    let all = match p.one("all")? {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(_) => return Err(ApiError::BadRequest("`all` must be 1 or 0".into(), None)),
    };
    let list = run(api, move |s| s.list_suppressions(all, Utc::now())).await?;
    Ok(axum::Json(json!({ "suppressions": list })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionBody {
    #[serde(default)]
    rule_id: Option<String>,
    #[serde(default)]
    matchers: std::collections::BTreeMap<String, String>,
    reason: String,
    expires_at: String,
}

async fn add_suppression(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let who = actor(&headers)?;
    let b: SuppressionBody = body(&headers, &bytes)?;
    let expires_at = parse_time("expires_at", Some(b.expires_at.trim()))?
        .ok_or_else(|| ApiError::BadRequest("`expires_at` is required".into(), None))?;
    let new = NewSuppression {
        rule_id: b.rule_id.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()),
        matchers: b.matchers,
        reason: b.reason,
        expires_at,
    };
    let s = run(api, move |s| s.add_suppression(&new, &who, Utc::now())).await?;
    api.feed.suppressions_changed();
    Ok((StatusCode::CREATED, axum::Json(json!({ "suppression": s }))).into_response())
}

async fn delete_suppression(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let who = actor(&headers)?;
    let s = run(api, move |s| s.delete_suppression(&id, &who, Utc::now())).await?;
    api.feed.suppressions_changed();
    Ok(axum::Json(json!({ "suppression": s })).into_response())
}

// ----- live stream ---------------------------------------------------------------------------

/// Which alerts a live stream forwards (properties that never change over an alert's life, so
/// a client never misses an alert leaving its view; status is filtered by the client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StreamFilter {
    min_severity: Option<u8>,
    kinds: Vec<DetectionKind>,
    rule_id: Option<String>,
    organization: Option<String>,
}

impl StreamFilter {
    fn matches(&self, a: &StoredAlert) -> bool {
        let x = &a.alert;
        self.min_severity.is_none_or(|m| x.severity.score >= m)
            && (self.kinds.is_empty() || self.kinds.contains(&x.kind))
            && self.rule_id.as_ref().is_none_or(|r| *r == x.rule_id)
            && self.organization.as_ref().is_none_or(|o| x.entity.organization() == Some(o))
    }
}

static STREAMS: std::sync::LazyLock<Arc<sen_core::metrics::Gauge>> =
    std::sync::LazyLock::new(|| {
        sen_core::metrics::gauge("sen_console_alert_streams", &[], "live alert streams open")
    });
static LAGGED: std::sync::LazyLock<Arc<sen_core::metrics::Counter>> =
    std::sync::LazyLock::new(|| {
        sen_core::metrics::counter(
            "sen_console_alert_stream_lagged_total",
            &[],
            "alert changes live streams missed because their client was too slow",
        )
    });

/// One live stream's state; dropping it (client gone) releases its slot.
struct StreamState {
    rx: broadcast::Receiver<Arc<StoredAlert>>,
    stop: watch::Receiver<bool>,
    filter: StreamFilter,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for StreamState {
    fn drop(&mut self) {
        STREAMS.add(-1);
    }
}

/// The events of one live stream: `alert` for each matching change, `lagged` with how many
/// changes were lost when the client fell behind; ends at shutdown or when the feed closes.
pub(crate) fn alert_events(
    rx: broadcast::Receiver<Arc<StoredAlert>>,
    stop: watch::Receiver<bool>,
    filter: StreamFilter,
    slot: tokio::sync::OwnedSemaphorePermit,
) -> impl Stream<Item = Result<SseEvent, std::convert::Infallible>> + Send + 'static {
    STREAMS.add(1);
    let state = StreamState { rx, stop, filter, _slot: slot };
    futures::stream::unfold(state, |mut s| async move {
        loop {
            if *s.stop.borrow() {
                return None;
            }
            let next = tokio::select! {
                biased;
                _ = s.stop.changed() => continue,
                r = s.rx.recv() => r,
            };
            match next {
                Ok(a) if s.filter.matches(&a) => {
                    let ev = match SseEvent::default().event("alert").json_data(&*a) {
                        Ok(ev) => ev,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot serialize an alert for a stream");
                            continue;
                        }
                    };
                    return Some((Ok(ev), s));
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    LAGGED.add(n);
                    let ev = SseEvent::default()
                        .event("lagged")
                        .data(json!({ "missed": n }).to_string());
                    return Some((Ok(ev), s));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

async fn stream(
    State(st): State<Arc<AppState>>,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let api = api(&st)?;
    let p = Params::new(query_pairs(q)?, &["severity", "kind", "rule", "org"])?;
    let filter = StreamFilter {
        min_severity: p.one("severity")?.map(parse_severity).transpose()?,
        kinds: p.parse_many("kind", |s| s.parse::<DetectionKind>().map_err(|e| e.to_string()))?,
        rule_id: p.one("rule")?.map(str::to_owned),
        organization: p.one("org")?.map(str::to_owned),
    };
    let Ok(slot) = api.stream_slots.clone().try_acquire_owned() else {
        return Err(ApiError::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live alert streams; retry later".into(),
            Some(5),
        ));
    };
    // Subscribe before answering: everything published after the response starts is seen.
    let events = alert_events(api.feed.subscribe(), st.shutdown.subscribe(), filter, slot);
    let mut r = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(api.keep_alive).text("keep-alive"))
        .into_response();
    // Proxies must not buffer the stream.
    r.headers_mut().insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    Ok(r)
}

fn intel_of(st: &AppState) -> Result<Arc<sen_analyzer::intel::IntelManager>, ApiError> {
    st.alerts.as_ref().and_then(|a| a.intel.clone()).ok_or_else(|| {
        ApiError::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            "no threat-intel feeds are configured ([[intel.feeds]])".into(),
            None,
        )
    })
}

/// `GET /api/v1/intel/feeds`: each feed's source, counts, last refresh and last error.
async fn intel_feeds(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let intel = intel_of(&st)?;
    Ok(axum::Json(serde_json::json!({ "feeds": intel.status() })).into_response())
}

/// `POST /api/v1/intel/feeds/{name}/refresh`: refresh one feed now (new indicators are
/// retro-hunted as on a scheduled refresh).
async fn intel_refresh(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let intel = intel_of(&st)?;
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::BadRequest("feed name must be 1 to 128 characters".into(), None));
    }
    match intel.refresh_now(&name).await {
        Ok(outcome) => {
            Ok(axum::Json(serde_json::json!({ "feed": name, "outcome": outcome })).into_response())
        }
        Err(sen_analyzer::intel::IntelError::UnknownFeed(n)) => Err(ApiError::Status(
            StatusCode::NOT_FOUND,
            format!("no enabled intel feed named `{}`", n.chars().take(128).collect::<String>()),
            None,
        )),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use sen_analyzer::alerts::{AlertGrouper, GrouperConfig, RuleMeta};
    use sen_core::event::Event;

    fn stored(rule: &str, level: Level, org: &str) -> StoredAlert {
        let mut g = AlertGrouper::new(GrouperConfig::default()).expect("grouper");
        let r = Arc::new(RuleMeta::sigma(rule, format!("rule {rule}"), level));
        let mut e = Event::new("ev-1".into(), Utc::now(), "line");
        e.organization = Some(org.into());
        e.set("host.name", "web01");
        let d = g.detection(r, &e);
        let a = g.observe(d, Utc::now()).remove(0).alert().cloned().expect("alert");
        StoredAlert {
            alert: a,
            assignee: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            revision: 1,
        }
    }

    fn slot() -> tokio::sync::OwnedSemaphorePermit {
        Arc::new(Semaphore::new(1)).try_acquire_owned().expect("permit")
    }

    /// Render an SSE event as the wire text (to look at its `event:` and `data:`).
    async fn wire(ev: SseEvent) -> String {
        let s = Sse::new(futures::stream::iter([Ok::<_, std::convert::Infallible>(ev)]));
        let body = s.into_response().into_body();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn lagging_stream_is_told_how_many_it_missed_and_filters_apply() {
        let feed = AlertFeed::new(4);
        let (stop_tx, stop) = watch::channel(false);
        let filter = StreamFilter { min_severity: Some(Level::High.score()), ..Default::default() };
        let events = alert_events(feed.subscribe(), stop, filter, slot());
        futures::pin_mut!(events);
        // 10 published before the stream is polled at all: the oldest 6 are gone.
        for i in 0..10 {
            let level = if i % 2 == 0 { Level::High } else { Level::Low };
            feed.publish(stored(&format!("r{i}"), level, "org-a"));
        }
        let first = wire(events.next().await.expect("event").expect("ok")).await;
        assert_eq!(first, "event: lagged\ndata: {\"missed\":6}\n\n");
        // Of the 4 kept (r6..r9), the two high ones pass the filter.
        for want in ["r6", "r8"] {
            let text = wire(events.next().await.expect("event").expect("ok")).await;
            assert!(text.starts_with("event: alert\ndata: {"), "{text}");
            assert!(text.contains(&format!("\"rule_id\":\"{want}\"")), "{text}");
        }
        // Shutdown ends the stream.
        stop_tx.send_replace(true);
        assert!(events.next().await.is_none());
    }

    #[test]
    fn stream_filter() {
        let a = stored("r1", Level::Medium, "org-a");
        assert!(StreamFilter::default().matches(&a));
        let f = |f: StreamFilter| f.matches(&a);
        assert!(f(StreamFilter { min_severity: Some(47), ..Default::default() }));
        assert!(!f(StreamFilter { min_severity: Some(48), ..Default::default() }));
        assert!(f(StreamFilter { kinds: vec![DetectionKind::Sigma], ..Default::default() }));
        assert!(!f(StreamFilter { kinds: vec![DetectionKind::Ioc], ..Default::default() }));
        assert!(!f(StreamFilter { rule_id: Some("r2".into()), ..Default::default() }));
        assert!(f(StreamFilter { organization: Some("org-a".into()), ..Default::default() }));
        assert!(!f(StreamFilter { organization: Some("org-b".into()), ..Default::default() }));
    }

    #[test]
    fn severity_and_limit_parsing() {
        assert_eq!(parse_severity("high").ok(), Some(73));
        assert_eq!(parse_severity("HIGH").ok(), Some(73));
        assert_eq!(parse_severity("50").ok(), Some(50));
        assert!(parse_severity("101").is_err());
        assert!(parse_severity("severe").is_err());
        assert_eq!(parse_limit(None).ok(), Some(50));
        assert!(parse_limit(Some("0")).is_err());
        assert!(parse_limit(Some("501")).is_err());
    }
}
