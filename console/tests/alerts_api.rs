//! The alert API against a real server on 127.0.0.1 (random port): every route, its 400s,
//! 404s, 409s and 503s, and the live stream (an alert published after connecting arrives; a
//! slow client is told how many changes it missed; shutdown ends the stream).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use sen_analyzer::alerts::{
    Alert, AlertFeed, AlertGrouper, AlertStore, DetectionKind, GrouperConfig, Level, RuleMeta,
};
use sen_analyzer::index::{IndexConfig, IndexStore};
use sen_collector::{Publisher, PublisherConfig, PublisherTask};
use sen_console::{AlertsApi, AppState, ConsoleConfig};
use sen_core::bus::{Bus, BusError, Delivered, Message};
use sen_core::event::Event;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A bus that accepts everything (the alert API never publishes to it).
struct NullBus;

#[async_trait::async_trait]
impl Bus for NullBus {
    fn partitions(&self, _: &str) -> Result<u32, BusError> {
        Ok(1)
    }
    async fn publish(&self, _: &str, m: Vec<Message>) -> Result<Vec<(u32, u64)>, BusError> {
        Ok((0..m.len() as u64).map(|i| (0, i)).collect())
    }
    async fn fetch(
        &self,
        _: &str,
        _: u32,
        _: u64,
        _: usize,
        _: Duration,
    ) -> Result<Vec<Delivered>, BusError> {
        Ok(vec![])
    }
    async fn commit(&self, _: &str, _: &str, _: u32, _: u64) -> Result<(), BusError> {
        Ok(())
    }
    async fn committed(&self, _: &str, _: &str, _: u32) -> Result<Option<u64>, BusError> {
        Ok(None)
    }
    async fn watermarks(&self, _: &str, _: u32) -> Result<(u64, u64), BusError> {
        Ok((0, 0))
    }
}

struct Server {
    base: String,
    client: reqwest::Client,
    store: Option<Arc<AlertStore>>,
    feed: AlertFeed,
    stop: Option<oneshot::Sender<()>>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
    _publisher: PublisherTask,
}

impl Server {
    async fn start(with_alerts: bool, feed_capacity: usize) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = Arc::new(
            IndexStore::open(&dir.path().join("index"), IndexConfig::default()).expect("index"),
        );
        let (publisher, publisher_task) =
            Publisher::spawn(Arc::new(NullBus), PublisherConfig::default());
        let feed = AlertFeed::new(feed_capacity);
        let store = with_alerts
            .then(|| Arc::new(AlertStore::open(dir.path().join("alerts.db")).expect("store")));
        let alerts = store.as_ref().map(|s| {
            AlertsApi::new(s.clone(), feed.clone()).with_keep_alive(Duration::from_secs(1))
        });
        let state = AppState::with_alerts(index, publisher, 1024, ConsoleConfig::default(), alerts);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(sen_console::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Server {
            base,
            client: reqwest::Client::builder().no_proxy().build().expect("client"),
            store,
            feed,
            stop: Some(stop),
            serving,
            _dir: dir,
            _publisher: publisher_task,
        }
    }

    fn store(&self) -> &AlertStore {
        self.store.as_deref().expect("server has a store")
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.client.get(self.url(path)).send().await.expect("send");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        user: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(u) = user {
            req = req.header("x-sen-user", u);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send().await.expect("send");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, user: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, user, Some(body.to_string())).await
    }

    async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.serving)
            .await
            .expect("server stops in time (live streams end)")
            .expect("join")
            .expect("serve");
    }
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_000_000 + secs, 0).single().expect("valid time")
}

/// An alert as the grouper makes it: `n` detections of `rule` on `host`.
fn alert(rule: &str, level: Level, kind: DetectionKind, host: &str, start: i64, n: u32) -> Alert {
    let mut g = AlertGrouper::new(GrouperConfig::default()).expect("grouper");
    let r = Arc::new(RuleMeta {
        id: rule.into(),
        title: format!("Title of {rule}"),
        level,
        tags: vec!["attack.t1110.001".into()],
        group_by: None,
        kind,
        author: None,
    });
    let mut last = None;
    for i in 0..n {
        let mut e = Event::new(format!("{rule}-ev-{i}"), t(start + i64::from(i)), "line");
        e.organization = Some("org-a".into());
        e.set("host.name", host);
        let d = g.detection(r.clone(), &e);
        last = g.observe(d, t(start)).into_iter().find_map(|u| u.alert().cloned());
    }
    last.expect("alert")
}

fn assert_error(status: StatusCode, body: &Value, want: StatusCode, needle: &str) {
    assert_eq!(status, want, "{body}");
    let msg = body["error"].as_str().unwrap_or_default();
    assert!(msg.contains(needle), "error {msg:?} lacks {needle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_store_every_alert_route_answers_503() {
    let s = Server::start(false, 16).await;
    let get_routes = [
        "/api/v1/alerts",
        "/api/v1/alerts/summary",
        "/api/v1/alerts/stream",
        "/api/v1/alerts/abc",
        "/api/v1/suppressions",
    ];
    for path in get_routes {
        let (status, body) = s.get(path).await;
        assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "alerting is not enabled");
    }
    for path in [
        "/api/v1/alerts/abc/status",
        "/api/v1/alerts/abc/assign",
        "/api/v1/alerts/abc/comments",
        "/api/v1/suppressions",
    ] {
        let (status, body) = s.post(path, None, json!({})).await;
        assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "alerting is not enabled");
    }
    let (status, body) =
        s.send(reqwest::Method::DELETE, "/api/v1/suppressions/1", None, None).await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "alerting is not enabled");
    // The rest of the console is unaffected.
    assert_eq!(s.get("/healthz").await.0, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_get_and_filters() {
    let s = Server::start(true, 16).await;
    let hi = alert("ssh-brute", Level::High, DetectionKind::Sigma, "web01", 0, 3);
    let crit = alert("ransom", Level::Critical, DetectionKind::Correlation, "db01", 100, 1);
    let low = alert("dns-odd", Level::Low, DetectionKind::Ioc, "web02", 200, 2);
    s.store().upsert_many(&[hi.clone(), crit.clone(), low.clone()]).expect("upsert");
    s.store()
        .set_status(&low.id, sen_analyzer::alerts::AlertStatus::Closed, "lan", None)
        .expect("close");

    let ids = |v: &Value| -> Vec<String> {
        v["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let (status, body) = s.get("/api/v1/alerts").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 3);
    assert_eq!(body["next"], Value::Null);
    assert_eq!(ids(&body), vec![low.id.clone(), crit.id.clone(), hi.id.clone()]);
    let first = &body["alerts"][2];
    assert_eq!(first["rule_title"], "Title of ssh-brute");
    assert_eq!(first["severity"]["label"], "high");
    assert_eq!(first["count"], 3);
    assert_eq!(first["status"], "open");
    assert_eq!(first["entity"]["host.name"], "web01");
    assert_eq!(first["threat"]["techniques"][0]["id"], "T1110.001");
    assert_eq!(first["event_ids"], json!(["ssh-brute-ev-0", "ssh-brute-ev-1", "ssh-brute-ev-2"]));

    for (query, want) in [
        ("status=open", vec![crit.id.clone(), hi.id.clone()]),
        ("status=open&status=closed", vec![low.id.clone(), crit.id.clone(), hi.id.clone()]),
        ("status=closed,acknowledged", vec![low.id.clone()]),
        ("severity=high", vec![crit.id.clone(), hi.id.clone()]),
        ("severity=99", vec![crit.id.clone()]),
        ("rule=dns-odd", vec![low.id.clone()]),
        ("kind=ioc,correlation", vec![low.id.clone(), crit.id.clone()]),
        ("org=org-a&q=RANSOM", vec![crit.id.clone()]),
        ("q=web0", vec![low.id.clone(), hi.id.clone()]),
        ("from=2026-11-18T11:07:30Z&to=2026-11-18T11:09:10Z", vec![crit.id.clone()]),
        ("sort=severity", vec![crit.id.clone(), hi.id.clone(), low.id.clone()]),
        ("sort=count&order=asc", vec![crit.id.clone(), low.id.clone(), hi.id.clone()]),
        ("offset=1&limit=1", vec![crit.id.clone()]),
    ] {
        let (status, body) = s.get(&format!("/api/v1/alerts?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(ids(&body), want, "{query}");
    }
    // Cursor paging walks every alert once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/alerts?limit=2".to_owned();
    loop {
        let (status, body) = s.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(ids(&body));
        match body["next"].as_str() {
            Some(c) => path = format!("/api/v1/alerts?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![low.id.clone(), crit.id.clone(), hi.id.clone()]);

    for (query, needle) in [
        ("status=pending", "unknown alert status `pending`"),
        ("severity=severe", "`severity` must be"),
        ("severity=101", "`severity` must be"),
        ("kind=yara", "unknown detection kind"),
        ("limit=0", "`limit` must be"),
        ("limit=501", "`limit` must be"),
        ("limit=x", "`limit` must be"),
        ("offset=-1", "`offset`"),
        ("offset=100001", "offset"),
        ("cursor=abc", "invalid cursor"),
        ("cursor=last_seen.d.1.x&offset=2", "not both"),
        ("sort=severity&cursor=last_seen.d.1.abc", "another sort order"),
        ("from=yesterday", "`from` is not an RFC 3339 time"),
        ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "`from` must be before `to`"),
        ("sevrity=high", "unknown parameter `sevrity`"),
        ("rule=a&rule=b", "more than once"),
        ("order=up", "`order` must be"),
        ("sort=name", "not one of"),
        ("assignee=a%20b", "assignee"),
    ] {
        let (status, body) = s.get(&format!("/api/v1/alerts?{query}")).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, needle);
    }
    let long = "x".repeat(300);
    let (status, body) = s.get(&format!("/api/v1/alerts?q={long}")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "text");

    // One alert with its history.
    let (status, body) = s.get(&format!("/api/v1/alerts/{}", low.id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["alert"]["id"], low.id.as_str());
    assert_eq!(body["alert"]["status"], "closed");
    let history = body["history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["action"], "created");
    assert_eq!(history[1]["action"], "status");
    assert_eq!(history[1]["actor"], "lan");
    assert_eq!(history[1]["from"], "open");
    assert_eq!(history[1]["to"], "closed");
    let (status, body) = s.get("/api/v1/alerts/0123456789abcdef0123456789abcdef").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not found");
    let (status, body) = s.get(&format!("/api/v1/alerts/{}", "x".repeat(300))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "alert id");

    // Summary.
    let (status, body) = s.get("/api/v1/alerts/summary").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 3);
    assert_eq!(body["by_status"], json!({"acknowledged": 0, "closed": 1, "open": 2}));
    assert_eq!(body["by_severity"]["critical"], 1);
    assert_eq!(body["by_severity"]["informational"], 0);
    assert_eq!(body["by_status_and_severity"]["open"]["high"], 1);
    let (status, body) = s.get("/api/v1/alerts/summary?org=org-b").await;
    assert_eq!((status, body["total"].clone()), (StatusCode::OK, json!(0)));
    let (status, body) = s.get("/api/v1/alerts/summary?status=open").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "unknown parameter");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_changes_validate_record_and_publish() {
    let s = Server::start(true, 64).await;
    let a = alert("ssh-brute", Level::High, DetectionKind::Sigma, "web01", 0, 2);
    s.store().upsert(&a).expect("upsert");
    let mut live = s.feed.subscribe();
    let path = |p: &str| format!("/api/v1/alerts/{}/{p}", a.id);

    // Acknowledge with a comment, as a named user.
    let (status, body) = s
        .post(
            &path("status"),
            Some("nguyen.van-a"),
            json!({"status": "acknowledged", "comment": "on it"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["alert"]["status"], "acknowledged");
    let last = body["history"].as_array().and_then(|h| h.last()).cloned().expect("history");
    assert_eq!(last["actor"], "nguyen.van-a");
    assert_eq!(last["comment"], "on it");
    let published = live.recv().await.expect("published");
    assert_eq!(published.alert.status, sen_analyzer::alerts::AlertStatus::Acknowledged);

    // Default actor; invalid transitions are 409; bad input 400; unknown alert 404.
    let (status, body) = s.post(&path("status"), None, json!({"status": "closed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["history"][2]["actor"], "analyst");
    let (status, body) = s.post(&path("status"), None, json!({"status": "acknowledged"})).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "is closed; it cannot be set to acknowledged",
    );
    let (status, body) = s.post(&path("status"), None, json!({"status": "closed"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "cannot be set to closed");
    let (status, body) = s.post(&path("status"), None, json!({"status": "resolved"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "unknown variant `resolved`");
    let (status, body) = s.post(&path("status"), None, json!({"status": "open", "extra": 1})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "unknown field `extra`");
    let (status, body) =
        s.send(reqwest::Method::POST, &path("status"), None, Some("{not json".into())).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid JSON body");
    let (status, body) = s.send(reqwest::Method::POST, &path("status"), None, None).await;
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Content-Type: application/json",
    );
    // What a cross-site form could send (text/plain) is refused, though the text is JSON.
    let r = s
        .client
        .post(s.url(&path("status")))
        .header("content-type", "text/plain")
        .body(r#"{"status":"closed"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = s
        .client
        .post(s.url(&path("status")))
        .header("content-type", "application/json; charset=utf-8")
        .body("")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (status, body) =
        s.post(&path("status"), None, json!({"status": "open", "comment": "x".repeat(4001)})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "longer than 4000 characters");
    let (status, body) = s.post(&path("status"), Some("<script>"), json!({"status": "open"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "X-Sen-User");
    let (status, body) = s
        .post(
            "/api/v1/alerts/0123456789abcdef0123456789abcdef/status",
            None,
            json!({"status": "open"}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not found");
    let (status, body) =
        s.post(&path("status"), Some("minh"), json!({"status": "open", "comment": "reopen"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Assign, unassign.
    let (status, body) = s.post(&path("assign"), Some("lan"), json!({"assignee": "minh"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["alert"]["assignee"], "minh");
    let (status, body) =
        s.post(&path("assign"), Some("lan"), json!({"assignee": "bad name"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "assignee");
    let (status, body) = s.post(&path("assign"), Some("minh"), json!({"assignee": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["alert"]["assignee"], Value::Null);
    let (status, body) = s.post(&path("assign"), None, json!({})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "missing field `assignee`");

    // Comments: 201; hostile text is stored as is (the UI escapes it).
    let hostile = "<img src=x onerror=alert(1)> \"; DROP TABLE alerts; --";
    let (status, body) = s.post(&path("comments"), Some("lan"), json!({"text": hostile})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let last = body["history"].as_array().and_then(|h| h.last()).cloned().expect("history");
    assert_eq!(
        (last["action"].clone(), last["comment"].clone()),
        (json!("comment"), json!(hostile))
    );
    let (status, body) = s.post(&path("comments"), None, json!({"text": "  "})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "must not be empty");
    let (status, body) = s.post(&path("comments"), None, json!({"text": "x".repeat(4001)})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "comment");
    let big = json!({"text": "x".repeat(70 * 1024)}).to_string();
    let (status, _) = s.send(reqwest::Method::POST, &path("comments"), None, Some(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // The full trail, in order.
    let (_, body) = s.get(&format!("/api/v1/alerts/{}", a.id)).await;
    let trail: Vec<(String, String)> = body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap_or("").to_owned(),
                h["actor"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("created", "sen"),
        ("status", "nguyen.van-a"),
        ("status", "analyst"),
        ("status", "minh"),
        ("assign", "lan"),
        ("assign", "minh"),
        ("comment", "lan"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(trail, want);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppressions_routes() {
    let s = Server::start(true, 16).await;
    let mut changes = s.feed.watch_suppressions();
    let expires = (Utc::now() + chrono::Duration::hours(4)).to_rfc3339();
    let (status, body) = s
        .post(
            "/api/v1/suppressions",
            Some("lan"),
            json!({"rule_id": "ssh-brute", "matchers": {"source.ip": "198.51.100.9"}, "reason": "pentest", "expires_at": expires}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["suppression"]["id"].as_str().expect("id").to_owned();
    assert_eq!(body["suppression"]["created_by"], "lan");
    assert_eq!(body["suppression"]["state"], "active");
    assert_eq!(body["suppression"]["count"], 0);
    tokio::time::timeout(Duration::from_secs(5), changes.changed())
        .await
        .expect("signal")
        .expect("open");
    assert_eq!(s.store().active_suppressions(Utc::now()).expect("active").len(), 1);

    let past = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    for (body, needle) in [
        (json!({"matchers": {}, "reason": "x", "expires_at": expires}), "suppress everything"),
        (json!({"rule_id": "r", "reason": " ", "expires_at": expires}), "reason"),
        (json!({"rule_id": "r", "reason": "x", "expires_at": past}), "in the future"),
        (
            json!({"rule_id": "r", "reason": "x", "expires_at": "soon"}),
            "`expires_at` is not an RFC 3339 time",
        ),
        (json!({"rule_id": "r", "reason": "x"}), "missing field `expires_at`"),
        (
            json!({"rule_id": "r", "reason": "x", "expires_at": expires, "forever": true}),
            "unknown field",
        ),
        (
            json!({"matchers": {"a b": "x"}, "reason": "x", "expires_at": expires}),
            "not a field name",
        ),
    ] {
        let (status, got) = s.post("/api/v1/suppressions", None, body).await;
        assert_error(status, &got, StatusCode::BAD_REQUEST, needle);
    }

    let (status, body) = s.get("/api/v1/suppressions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["suppressions"].as_array().map(Vec::len), Some(1));
    let (status, body) = s
        .send(reqwest::Method::DELETE, &format!("/api/v1/suppressions/{id}"), Some("minh"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["suppression"]["state"], "deleted");
    assert_eq!(body["suppression"]["ended_by"], "minh");
    let (status, body) =
        s.send(reqwest::Method::DELETE, &format!("/api/v1/suppressions/{id}"), None, None).await;
    assert_error(status, &body, StatusCode::CONFLICT, "already ended");
    let (status, body) =
        s.send(reqwest::Method::DELETE, "/api/v1/suppressions/999", None, None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "suppression `999` not found");
    let (status, body) =
        s.send(reqwest::Method::DELETE, "/api/v1/suppressions/abc", None, None).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "suppression id");
    let (_, body) = s.get("/api/v1/suppressions").await;
    assert_eq!(body["suppressions"], json!([]));
    let (_, body) = s.get("/api/v1/suppressions?all=1").await;
    assert_eq!(body["suppressions"].as_array().map(Vec::len), Some(1));
    let (status, body) = s.get("/api/v1/suppressions?all=maybe").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "`all`");
    s.shutdown().await;
}

/// Read the SSE body until `n` events (not comments) arrived; returns (event, data) pairs.
async fn read_events(resp: &mut reqwest::Response, n: usize) -> Vec<(String, Value)> {
    let mut buf = String::new();
    let mut out = Vec::new();
    while out.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .expect("event in time")
            .expect("read")
            .expect("stream still open");
        buf.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            if !event.is_empty() {
                out.push((event, serde_json::from_str(&data).expect("json data")));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_delivers_alerts_published_after_connecting() {
    let s = Server::start(true, 64).await;
    let mut resp =
        s.client.get(s.url("/api/v1/alerts/stream?severity=medium")).send().await.expect("connect");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    // The pipeline's path: upsert a batch, publish what changed.
    let low = alert("noise", Level::Low, DetectionKind::Sigma, "web01", 0, 1);
    let hi = alert("ssh-brute", Level::High, DetectionKind::Sigma, "web01", 10, 2);
    let ups = s.store().upsert_many(&[low, hi.clone()]).expect("upsert");
    assert_eq!(s.feed.publish_upserts(ups), 2);
    let got = read_events(&mut resp, 1).await;
    assert_eq!(got[0].0, "alert");
    assert_eq!(got[0].1["id"], hi.id.as_str(), "the low alert is filtered out");
    assert_eq!(got[0].1["count"], 2);
    assert_eq!(got[0].1["revision"], 1);
    // A workflow change by another analyst arrives too.
    let (status, _) = s
        .post(
            &format!("/api/v1/alerts/{}/status", hi.id),
            Some("lan"),
            json!({"status": "acknowledged"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = read_events(&mut resp, 1).await;
    assert_eq!(
        (got[0].1["status"].clone(), got[0].1["revision"].clone()),
        (json!("acknowledged"), json!(2))
    );
    // Keep-alive comments flow while idle (every second here).
    let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
        .await
        .expect("keep-alive")
        .expect("read")
        .expect("open");
    assert_eq!(std::str::from_utf8(&chunk).expect("utf-8"), ": keep-alive\n\n");
    // Bad stream filters are 400s.
    let (status, body) = s.get("/api/v1/alerts/stream?status=open").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "unknown parameter");
    // Shutdown ends the open stream, so the server can stop.
    s.shutdown().await;
    let rest =
        tokio::time::timeout(Duration::from_secs(5), resp.chunk()).await.expect("end in time");
    assert!(matches!(rest, Ok(None) | Err(_)), "stream ended: {rest:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn slow_stream_client_gets_a_lagged_event() {
    // On one thread the stream task cannot run while this test publishes: with a feed of 4,
    // 10 changes published in one go leave the stream 6 behind, deterministically.
    let s = Server::start(true, 4).await;
    let mut resp = s.client.get(s.url("/api/v1/alerts/stream")).send().await.expect("connect");
    assert_eq!(resp.status(), StatusCode::OK);
    let alerts: Vec<Alert> = (0..10)
        .map(|i| alert(&format!("r{i}"), Level::High, DetectionKind::Sigma, "web01", i, 1))
        .collect();
    for a in &alerts {
        let ups = s.store().upsert_many(std::slice::from_ref(a)).expect("upsert");
        s.feed.publish_upserts(ups);
    }
    let got = read_events(&mut resp, 5).await;
    assert_eq!(got[0], ("lagged".to_owned(), json!({"missed": 6})));
    let ids: Vec<&str> = got[1..].iter().map(|(_, v)| v["id"].as_str().unwrap_or("")).collect();
    let want: Vec<&str> = alerts[6..].iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, want);
    drop(resp);
    s.shutdown().await;
}
