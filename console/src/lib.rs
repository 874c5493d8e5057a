//! `sen-console`: the HTTP face of Sen — the REST API, the HTTP ingest endpoint, health and
//! metrics, and the web UI (embedded in the binary).
//!
//! Architecture invariant: only this crate knows HTTP routing. Errors map to HTTP statuses in
//! one place ([`ApiError`]).
//!
//! Until console authentication lands (a later issue) the server binds to 127.0.0.1 by default;
//! the ingest endpoint takes a bearer token when one is configured.
//!
//! The alert queue, live alert stream and suppressions are in [`alerts`]; they answer 503 when
//! the state was built without an [`AlertsApi`].

pub mod alerts;

pub use alerts::AlertsApi;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use sen_analyzer::index::{IndexError, IndexStore, SearchRequest};
use sen_collector::{BatchMeta, IngestLimits, Publisher};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{Semaphore, watch};

const INDEX_HTML: &str = include_str!("../ui/index.html");
const APP_JS: &str = include_str!("../ui/app.js");
const STYLE_CSS: &str = include_str!("../ui/style.css");

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Console settings.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Bearer token required on `POST /api/v1/ingest` (none = open, for loopback use).
    pub ingest_token: Option<String>,
    /// Tenant assigned to events ingested over HTTP with that token.
    pub ingest_organization: Option<String>,
    /// Limits of one ingest request.
    pub ingest_limits: IngestLimits,
    /// Most ingest requests being processed at once; more get 429.
    pub ingest_concurrency: usize,
    /// Largest page a search may ask for.
    pub max_search_limit: usize,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            ingest_token: None,
            ingest_organization: None,
            ingest_limits: IngestLimits::default(),
            ingest_concurrency: 16,
            max_search_limit: 10_000,
        }
    }
}

/// Shared state of the handlers.
pub struct AppState {
    index: Arc<IndexStore>,
    publisher: Publisher,
    queue_capacity: usize,
    cfg: ConsoleConfig,
    ingest_slots: Semaphore,
    started: Instant,
    alerts: Option<AlertsApi>,
    /// Turns true at shutdown: long-lived responses (live streams) end, so the server can.
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// Build the state without alerting (the alert routes answer 503). `queue_capacity` is the
    /// publisher's queue size (for back-pressure).
    pub fn new(
        index: Arc<IndexStore>,
        publisher: Publisher,
        queue_capacity: usize,
        cfg: ConsoleConfig,
    ) -> Arc<AppState> {
        AppState::with_alerts(index, publisher, queue_capacity, cfg, None)
    }

    /// Build the state, with the alert API when `alerts` is given.
    pub fn with_alerts(
        index: Arc<IndexStore>,
        publisher: Publisher,
        queue_capacity: usize,
        cfg: ConsoleConfig,
        alerts: Option<AlertsApi>,
    ) -> Arc<AppState> {
        let slots = cfg.ingest_concurrency.max(1);
        Arc::new(AppState {
            index,
            publisher,
            queue_capacity,
            cfg,
            ingest_slots: Semaphore::new(slots),
            started: Instant::now(),
            alerts,
            shutdown: watch::channel(false).0,
        })
    }

    /// End every live stream (called by [`serve`] when its shutdown signal fires).
    pub fn close_streams(&self) {
        self.shutdown.send_replace(true);
    }
}

/// An API error: the one mapping from error kinds to HTTP statuses.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with an optional position in the query text.
    BadRequest(String, Option<usize>),
    /// 401.
    Unauthorized,
    /// Any status with a message (and optional Retry-After seconds).
    Status(StatusCode, String, Option<u64>),
    /// 500.
    Internal(String),
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Query(q) => ApiError::BadRequest(q.to_string(), Some(q.pos)),
            IndexError::BadRequest(m) => ApiError::BadRequest(m, None),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(msg, pos) => {
                let mut body = json!({ "error": msg });
                if let Some(p) = pos {
                    body["position"] = json!(p);
                }
                (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
            }
            ApiError::Unauthorized => {
                let mut r = (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": "missing or invalid bearer token"})),
                )
                    .into_response();
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            ApiError::Status(code, msg, retry) => {
                let mut r = (code, axum::Json(json!({ "error": msg }))).into_response();
                if let Some(s) = retry
                    && let Ok(v) = HeaderValue::from_str(&s.to_string())
                {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            ApiError::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": "internal error"})))
                    .into_response()
            }
        }
    }
}

/// Build the router.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.cfg.ingest_limits.max_body_bytes + 1024;
    Router::new()
        .route("/", get(ui_index))
        .route("/ui/app.js", get(ui_js))
        .route("/ui/style.css", get(ui_css))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/search", get(search))
        .route("/api/v1/histogram", get(histogram))
        .route("/api/v1/fields/{field}/top", get(top_values))
        .route("/api/v1/ingest", post(ingest).layer(DefaultBodyLimit::max(body_limit)))
        .merge(alerts::routes())
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

async fn not_found() -> ApiError {
    ApiError::Status(StatusCode::NOT_FOUND, "not found".into(), None)
}

async fn ui_index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX_HTML)
}

async fn ui_js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS)
}

async fn ui_css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE_CSS)
}

async fn healthz(State(st): State<Arc<AppState>>) -> impl IntoResponse {
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": st.started.elapsed().as_secs(),
        "intake_queue": st.publisher.queued(),
    }))
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        sen_core::metrics::render(),
    )
}

/// Common time-range parameters.
#[derive(Debug, Deserialize)]
struct RangeParams {
    /// `events` (default) or `alerts`: which index to search.
    #[serde(default)]
    index: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// The index a request names (`index=events`, the default, or `index=alerts`).
fn pick_index(st: &AppState, name: Option<&str>) -> Result<Arc<IndexStore>, ApiError> {
    match name.map(str::trim) {
        None | Some("") | Some("events") => Ok(st.index.clone()),
        Some("alerts") => st.alerts.as_ref().and_then(|a| a.index.clone()).ok_or_else(|| {
            ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                "this server has no alert index (detection is off)".into(),
                None,
            )
        }),
        Some(other) => Err(ApiError::BadRequest(
            format!(
                "unknown index `{}` (use events or alerts)",
                other.chars().take(40).collect::<String>()
            ),
            None,
        )),
    }
}

fn parse_time(
    name: &str,
    v: &Option<String>,
    default: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => sen_analyzer::index::query::parse_time(s).ok_or_else(|| {
            ApiError::BadRequest(format!("`{name}` is not an RFC 3339 time: {s}"), None)
        }),
    }
}

impl RangeParams {
    fn resolve(&self) -> Result<(String, DateTime<Utc>, DateTime<Utc>), ApiError> {
        let now = Utc::now();
        let to = parse_time("to", &self.to, now + Duration::seconds(1))?;
        let from = parse_time("from", &self.from, to - Duration::hours(24))?;
        if to <= from {
            return Err(ApiError::BadRequest("`to` must be after `from`".into(), None));
        }
        let q = self.q.clone().unwrap_or_default();
        if q.len() > 16 * 1024 {
            return Err(ApiError::BadRequest("query is longer than 16 KiB".into(), None));
        }
        Ok((q, from, to))
    }
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    #[serde(flatten)]
    range: RangeParams,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    offset: Option<String>,
}

fn parse_usize(
    name: &str,
    v: &Option<String>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match v.as_deref() {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            Ok(_) => Err(ApiError::BadRequest(format!("`{name}` must be at most {max}"), None)),
            Err(_) => {
                Err(ApiError::BadRequest(format!("`{name}` must be a non-negative integer"), None))
            }
        },
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, IndexError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

async fn search(
    State(st): State<Arc<AppState>>,
    Query(p): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let index = pick_index(&st, p.range.index.as_deref())?;
    let (q, from, to) = p.range.resolve()?;
    let limit = parse_usize("limit", &p.limit, 50, st.cfg.max_search_limit)?;
    let offset = parse_usize("offset", &p.offset, 0, 100_000)?;
    let resp =
        blocking(move || index.search(&SearchRequest { q, from, to, limit, offset })).await?;
    Ok(axum::Json(json!({
        "total": resp.total,
        "took_ms": resp.took_ms,
        "from": from,
        "to": to,
        "offset": offset,
        "hits": resp.hits,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct HistogramParams {
    #[serde(flatten)]
    range: RangeParams,
    #[serde(default)]
    buckets: Option<String>,
}

async fn histogram(
    State(st): State<Arc<AppState>>,
    Query(p): Query<HistogramParams>,
) -> Result<Response, ApiError> {
    let index = pick_index(&st, p.range.index.as_deref())?;
    let (q, from, to) = p.range.resolve()?;
    let buckets = parse_usize("buckets", &p.buckets, 60, 1000)?.max(1);
    let h = blocking(move || index.histogram(&q, from, to, buckets)).await?;
    Ok(axum::Json(h).into_response())
}

#[derive(Debug, Deserialize)]
struct TopParams {
    #[serde(flatten)]
    range: RangeParams,
    #[serde(default)]
    size: Option<String>,
}

async fn top_values(
    State(st): State<Arc<AppState>>,
    Path(field): Path<String>,
    Query(p): Query<TopParams>,
) -> Result<Response, ApiError> {
    if field.is_empty()
        || field.len() > 256
        || !field.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(ApiError::BadRequest(format!("`{field}` is not a field name"), None));
    }
    let index = pick_index(&st, p.range.index.as_deref())?;
    let (q, from, to) = p.range.resolve()?;
    let size = parse_usize("size", &p.size, 10, 1000)?.max(1);
    let t = blocking(move || index.top_values(&field, &q, from, to, size)).await?;
    Ok(axum::Json(t).into_response())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn ingest(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Some(token) = &st.cfg.ingest_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(given.trim().as_bytes(), token.as_bytes()) {
            return Err(ApiError::Unauthorized);
        }
    }
    let Ok(_slot) = st.ingest_slots.try_acquire() else {
        return Err(ApiError::Status(
            StatusCode::TOO_MANY_REQUESTS,
            "too many concurrent ingest requests".into(),
            Some(1),
        ));
    };
    if st.publisher.queued() * 10 >= st.queue_capacity * 9 {
        return Err(ApiError::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            "intake queue is full; retry later".into(),
            Some(1),
        ));
    }
    let batch_id = headers
        .get("x-sen-batch-id")
        .or_else(|| headers.get("idempotency-key"))
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(b) = batch_id
        && (b.len() > 200 || !b.chars().all(|c| c.is_ascii_graphic()))
    {
        return Err(ApiError::BadRequest(
            "batch id must be at most 200 printable ASCII characters".into(),
            None,
        ));
    }
    let meta = BatchMeta {
        received_ms: Utc::now().timestamp_millis(),
        peer: Some(peer.to_string()),
        organization: st.cfg.ingest_organization.clone(),
        // Batch ids are scoped by tenant: two senders reusing an id never overwrite each other.
        batch_id: batch_id
            .map(|b| format!("{}:{b}", st.cfg.ingest_organization.as_deref().unwrap_or("-"))),
    };
    let encoding =
        headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let limits = st.cfg.ingest_limits.clone();
    let decoded = tokio::task::spawn_blocking(move || {
        sen_collector::decode_batch(encoding.as_deref(), &body, &limits, meta)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| {
        let code = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::Status(code, e.to_string(), None)
    })?;
    let accepted = decoded.records.len();
    if accepted > 0 {
        st.publisher.send_all_acked(decoded.records).await.map_err(|e| {
            ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("batch not durable: {e}"),
                Some(1),
            )
        })?;
    }
    let status = if decoded.error_count > 0 && accepted == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(json!({
            "accepted": accepted,
            "rejected": decoded.error_count,
            "errors": decoded.errors,
        })),
    )
        .into_response())
}

/// Serve the console on a bound listener until `shutdown` resolves; then live streams end and
/// requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let st = state.clone();
    let shutdown = async move {
        shutdown.await;
        st.close_streams();
    };
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
