//! `sen serve`: intake + analyzer + console in one process on the embedded bus.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use sen_analyzer::alerts::AlertUpdate;
use sen_analyzer::detect::Detector;
use sen_analyzer::enrich::{Asset, Enricher, NetworkInfo};
use sen_analyzer::index::IndexStore;
use sen_analyzer::pipeline::Pipeline;
use sen_collector::{Publisher, PublisherConfig, SyslogConfig};
use sen_core::bus::Bus;
use sen_core::bus::embedded::EmbeddedLog;
use sen_core::raw::{Body, RawRecord, Transport};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, listen_addr};

/// Command-line overrides of the configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<std::path::PathBuf>,
    pub listen_http: Option<String>,
    pub listen_syslog_tcp: Option<String>,
    pub listen_syslog_udp: Option<String>,
    pub ingest_token: Option<String>,
    pub commit_interval_ms: Option<u64>,
}

/// Apply overrides.
pub fn apply(mut cfg: Config, o: &Overrides) -> Config {
    if let Some(d) = &o.data_dir {
        cfg.data_dir = d.clone();
    }
    if let Some(v) = &o.listen_http {
        cfg.http.listen = v.clone();
    }
    if let Some(v) = &o.listen_syslog_tcp {
        cfg.syslog.tcp = Some(v.clone());
    }
    if let Some(v) = &o.listen_syslog_udp {
        cfg.syslog.udp = Some(v.clone());
    }
    if let Some(t) = &o.ingest_token {
        cfg.http.ingest_token = Some(t.clone());
    }
    if let Some(ms) = o.commit_interval_ms {
        cfg.pipeline.commit_interval_ms = ms;
    }
    cfg
}

fn demo_assets() -> Vec<Asset> {
    sen_collector::demo::assets()
        .into_iter()
        .map(|a| Asset {
            host: a.host,
            ip: Some(a.ip),
            organization: a.organization,
            system: a.system,
            system_name: a.system_name,
            level: a.level,
            zone: Some(a.zone),
        })
        .collect()
}

/// Geography of the demo's documentation-range addresses (no real database knows them): the
/// citizens are in Viet Nam, the attackers abroad.
fn demo_networks() -> Vec<NetworkInfo> {
    use sen_collector::demo::{ATTACKER_SSH_IP, ATTACKER_WEB_IP, BAD_IP, SCANNER_IP};
    let net = |cidr: &str, cc: &str, asn: u32, org: &str| -> Option<NetworkInfo> {
        Some(NetworkInfo {
            cidr: cidr.parse().ok()?,
            country: Some(cc.into()),
            asn: Some(asn),
            as_org: Some(org.into()),
        })
    };
    [
        net("198.51.100.0/24", "VN", 64501, "VNPT (demo)"),
        net("192.0.2.0/24", "VN", 64502, "Viettel (demo)"),
        net(&format!("{ATTACKER_SSH_IP}/32"), "CN", 64511, "Example Cloud Shanghai (demo)"),
        net(&format!("{ATTACKER_WEB_IP}/32"), "RU", 64512, "Example Hosting Moscow (demo)"),
        net(&format!("{SCANNER_IP}/32"), "NL", 64513, "Example VPS Amsterdam (demo)"),
        net(&format!("{BAD_IP}/32"), "SC", 64514, "Bulletproof Example Ltd (demo)"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn demo_record(r: sen_collector::demo::DemoRecord) -> RawRecord {
    RawRecord {
        received_ms: r.at.timestamp_millis(),
        transport: Transport::Demo,
        peer: Some(SocketAddr::new(r.peer, 514).to_string()),
        organization: r.organization,
        origin: None,
        format: None,
        body: Body::Line(r.line),
    }
}

async fn run_demo(publisher: Publisher, backfill: bool, shutdown: CancellationToken) {
    let now = chrono::Utc::now();
    if backfill {
        let records = sen_collector::demo::backfill(now, chrono::Duration::hours(24), 7);
        tracing::info!(records = records.len(), "demo: loading a 24 h backfill of the province");
        for r in records {
            if publisher.send(demo_record(r)).await.is_err() {
                return;
            }
        }
    }
    let mut live =
        sen_collector::demo::LiveDemo::new(chrono::Utc::now(), 5.0, now.timestamp_millis() as u64);
    loop {
        let Some(r) = live.next() else { return };
        let wait = (r.at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if publisher.send(demo_record(r)).await.is_err() {
            return;
        }
    }
}

/// Run the server until SIGINT/SIGTERM.
pub async fn run(mut cfg: Config, demo: bool) -> Result<()> {
    if demo {
        let mut assets = demo_assets();
        assets.retain(|a| !cfg.enrich.assets.iter().any(|b| b.host == a.host));
        cfg.enrich.assets.extend(assets);
        cfg.enrich.networks.extend(demo_networks());
    }
    cfg.check()?;
    cfg.bus
        .topics
        .entry(sen_core::raw::RAW_TOPIC.to_owned())
        .or_insert(sen_core::bus::embedded::TopicConfig { partitions: 2 });
    cfg.bus
        .topics
        .entry(ALERTS_TOPIC.to_owned())
        .or_insert(sen_core::bus::embedded::TopicConfig { partitions: 1 });
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
    let log =
        EmbeddedLog::open(&cfg.data_dir.join("bus"), cfg.bus.clone()).context("opening the bus")?;
    for t in log.recovery() {
        tracing::warn!(?t, "bus recovery cut a torn tail");
    }
    let log = Arc::new(log);
    let bus: Arc<dyn Bus> = log.clone();
    let index = Arc::new(
        IndexStore::open(&cfg.data_dir.join("index"), cfg.index.clone())
            .context("opening the index")?,
    );
    let enricher = Arc::new(Enricher::new(&cfg.enrich)?);
    let alerts_index = Arc::new(
        IndexStore::open(
            &cfg.data_dir.join("alerts-index"),
            sen_analyzer::index::IndexConfig {
                max_age_days: cfg.detection.alert_retention_days,
                writer_memory_bytes: 32 << 20,
                writer_threads: 1,
                ..cfg.index.clone()
            },
        )
        .context("opening the alert index")?,
    );

    let shutdown = CancellationToken::new();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    // Alert workflow store and live feed (console).
    let alert_store = Arc::new(
        sen_analyzer::alerts::AlertStore::open(cfg.data_dir.join("alerts.db"))
            .context("opening the alert store")?,
    );
    let alert_feed =
        sen_analyzer::alerts::AlertFeed::new(sen_analyzer::alerts::AlertFeed::DEFAULT_CAPACITY);

    // Analyzer, with detection.
    let mut pipeline = Pipeline::new(bus.clone(), index.clone(), enricher, cfg.pipeline.clone())?
        .with_process_table(cfg.data_dir.join("audit-processes.json"));
    let mut alert_sink_task = None;
    let mut suppression_task = None;
    let mut intel = None;
    let mut intel_api: Option<Arc<sen_analyzer::intel::IntelManager>> = None;
    let mut retro_task: Option<tokio::task::JoinHandle<()>> = None;
    if cfg.detection.enabled {
        // Rebuilding plans without common needles frees plans and automata: hand that memory
        // back too (once or twice per engine, a few milliseconds each).
        sen_rules::sigma::engine::set_release_hook(crate::release_free_memory);
        let dcfg = cfg.detection.clone();
        let state = cfg.data_dir.join("correlation-state.json");
        let (detector, report) = tokio::task::spawn_blocking(move || {
            let loaded = Detector::load(&dcfg, Some(state));
            // The parsed rules were freed on this thread.
            crate::release_free_memory();
            loaded
        })
        .await
        .context("loading rules")?
        .map_err(|e| anyhow::anyhow!("detection: {e}"))?;
        for e in &report.errors {
            tracing::error!(file = %e.file.display(), rule = e.rule.as_deref().unwrap_or("-"), reason = %e.reason, "rule not loaded");
        }
        tracing::info!(
            rules = report.rules,
            correlations = report.correlations,
            errors = report.errors.len(),
            "detection rules loaded"
        );
        let mut detector = detector;
        if cfg.anomaly.enabled {
            detector
                .set_anomaly(cfg.anomaly.clone(), Some(cfg.data_dir.join("anomaly.state")))
                .map_err(|e| anyhow::anyhow!("anomaly: {e}"))?;
        }
        if !cfg.intel.feeds.is_empty() {
            let (manager, new_iocs) = sen_analyzer::intel::IntelManager::start(
                cfg.intel.clone(),
                Some(cfg.data_dir.join("intel")),
            )
            .await
            .map_err(|e| anyhow::anyhow!("threat intel: {e}"))?;
            detector.set_intel(manager.clone());
            intel_api = Some(manager.clone());
            intel = Some((manager, new_iocs));
        }
        let detector = Arc::new(detector);
        suppression_task = Some(tokio::spawn(sync_suppressions(
            detector.clone(),
            alert_store.clone(),
            alert_feed.clone(),
            shutdown.clone(),
        )));
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<AlertUpdate>>(64);
        alert_sink_task = Some(tokio::spawn(alert_sink(
            bus.clone(),
            alert_store.clone(),
            alert_feed.clone(),
            rx,
        )));
        if let Some((manager, new_iocs)) = intel.take() {
            retro_task = Some(tokio::spawn(retro_hunts(
                manager,
                new_iocs,
                index.clone(),
                alerts_index.clone(),
                detector.clone(),
                tx.clone(),
                Duration::from_millis(cfg.pipeline.commit_interval_ms.max(10) * 3 + 1000),
                shutdown.clone(),
            )));
        }
        pipeline = pipeline.with_detection(detector, alerts_index.clone(), Some(tx));
    }
    let pipeline_task = tokio::spawn(pipeline.run(stop_rx));

    // Intake.
    let pub_cfg =
        PublisherConfig { queue_capacity: cfg.syslog.queue_capacity, ..PublisherConfig::default() };
    let (publisher, publisher_task) = Publisher::spawn(bus.clone(), pub_cfg.clone());
    let syslog_cfg =
        SyslogConfig { max_message_bytes: cfg.syslog.max_message_bytes, ..SyslogConfig::default() };
    let mut listeners = Vec::new();
    if let Some(addr) = listen_addr("syslog.udp", &cfg.syslog.udp)? {
        let sock = tokio::net::UdpSocket::bind(addr)
            .await
            .with_context(|| format!("binding syslog UDP {addr}"))?;
        tracing::info!(addr = %sock.local_addr()?, "syslog UDP listening");
        listeners.push(tokio::spawn(sen_collector::serve_udp(
            sock,
            publisher.clone(),
            syslog_cfg.clone(),
            shutdown.clone(),
        )));
    }
    if let Some(addr) = listen_addr("syslog.tcp", &cfg.syslog.tcp)? {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding syslog TCP {addr}"))?;
        tracing::info!(addr = %l.local_addr()?, "syslog TCP listening");
        listeners.push(tokio::spawn(sen_collector::serve_tcp(
            l,
            publisher.clone(),
            syslog_cfg.clone(),
            shutdown.clone(),
        )));
    }
    if let Some(tls) = &cfg.syslog.tls {
        let server =
            sen_collector::load_server_config(&tls.cert, &tls.key, tls.client_ca.as_deref())?;
        let addr: SocketAddr = tls.listen.parse().context("syslog.tls.listen")?;
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding syslog TLS {addr}"))?;
        tracing::info!(addr = %l.local_addr()?, "syslog TLS listening");
        listeners.push(tokio::spawn(sen_collector::serve_tls(
            l,
            tokio_rustls::TlsAcceptor::from(server),
            publisher.clone(),
            syslog_cfg.clone(),
            shutdown.clone(),
        )));
    }

    // Console.
    let console_cfg = sen_console::ConsoleConfig {
        ingest_token: cfg.http.ingest_token.clone(),
        ingest_organization: cfg.http.ingest_organization.clone(),
        ..Default::default()
    };
    let state = sen_console::AppState::with_alerts(
        index.clone(),
        publisher.clone(),
        pub_cfg.queue_capacity,
        console_cfg,
        Some({
            let api = sen_console::AlertsApi::new(alert_store.clone(), alert_feed.clone())
                .with_index(alerts_index.clone());
            match intel_api {
                Some(m) => api.with_intel(m),
                None => api,
            }
        }),
    );
    let http_addr: SocketAddr = cfg.http.listen.parse().context("http.listen")?;
    let http = tokio::net::TcpListener::bind(http_addr)
        .await
        .with_context(|| format!("binding HTTP {http_addr}"))?;
    let http_local = http.local_addr()?;
    tracing::info!(addr = %http_local, "console listening: http://{http_local}/");
    let console_stop = shutdown.clone();
    let console =
        tokio::spawn(sen_console::serve(
            http,
            state,
            async move { console_stop.cancelled().await },
        ));

    // Demo source.
    let demo_task = if demo {
        let empty = index.doc_counts().values().all(|n| *n == 0)
            && bus.watermarks(sen_core::raw::RAW_TOPIC, 0).await.map(|w| w.1 == 0).unwrap_or(true);
        Some(tokio::spawn(run_demo(publisher.clone(), empty, shutdown.clone())))
    } else {
        None
    };

    // Housekeeping: retention of the bus and the index.
    let house_stop = shutdown.clone();
    let house_index = index.clone();
    let house_alerts = alerts_index.clone();
    let house_log = log.clone();
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tokio::select! {
                _ = house_stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let (i, l, a) = (house_index.clone(), house_log.clone(), house_alerts.clone());
            let r = tokio::task::spawn_blocking(move || {
                if let Err(e) = a.enforce_retention(chrono::Utc::now()) {
                    tracing::warn!(error = %e, "alert index retention failed");
                }
                let days = i.enforce_retention(chrono::Utc::now());
                let segs = l.enforce_retention();
                (days, segs)
            })
            .await;
            match r {
                Ok((days, segs)) => {
                    if let Err(e) = days {
                        tracing::warn!(error = %e, "index retention failed");
                    }
                    if let Err(e) = segs {
                        tracing::warn!(error = %e, "bus retention failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "retention task failed"),
            }
        }
    });

    println!("sen serving: console http://{http_local}/");
    let mut pipeline_task = pipeline_task;
    let mut pipeline_done = None;
    tokio::select! {
        _ = wait_for_signal() => {}
        r = &mut pipeline_task => {
            tracing::error!(result = ?r, "analyzer pipeline stopped unexpectedly; shutting down");
            pipeline_done = Some(r);
        }
    }
    tracing::info!("shutting down");
    shutdown.cancel();
    for l in listeners {
        let _ = l.await;
    }
    if let Some(d) = demo_task {
        let _ = d.await;
    }
    let _ = console.await;
    drop(publisher);
    publisher_task.shutdown().await;
    let _ = stop_tx.send(true);
    let result = match pipeline_done {
        Some(r) => r,
        None => pipeline_task.await,
    };
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "pipeline failed"),
        Err(e) => tracing::error!(error = %e, "pipeline task failed"),
    }
    let _ = housekeeping.await;
    if let Some(t) = retro_task {
        let _ = t.await;
    }
    if let Some(t) = suppression_task {
        let _ = t.await;
    }
    if let Some(t) = alert_sink_task {
        // The pipeline (the only sender) has stopped: the sink drains and ends.
        let _ = t.await;
    }
    log.flush().ok();
    Ok(())
}

/// The bus topic alerts are published on (JSON, one record per alert state, keyed by alert id).
pub const ALERTS_TOPIC: &str = "alerts";

/// Receives the alert updates of each index commit: stores them in the workflow store, pushes
/// what changed to the console's live feed, and publishes each alert's state on the bus topic
/// `alerts`.
async fn alert_sink(
    bus: Arc<dyn Bus>,
    store: Arc<sen_analyzer::alerts::AlertStore>,
    feed: sen_analyzer::alerts::AlertFeed,
    mut rx: tokio::sync::mpsc::Receiver<Vec<AlertUpdate>>,
) {
    let published = sen_core::metrics::counter(
        "sen_alerts_published_total",
        &[],
        "alert states published on the bus topic `alerts`",
    );
    let store_errors = sen_core::metrics::counter(
        "sen_alert_store_errors_total",
        &[],
        "alert update batches the workflow store rejected",
    );
    while let Some(updates) = rx.recv().await {
        let now = chrono::Utc::now().timestamp_millis();
        let messages: Vec<sen_core::bus::Message> = updates
            .iter()
            .filter_map(AlertUpdate::alert)
            .filter_map(|a| {
                serde_json::to_vec(a).ok().map(|payload| sen_core::bus::Message {
                    key: a.id.as_bytes().to_vec(),
                    payload,
                    timestamp_ms: now,
                })
            })
            .collect();
        let st = store.clone();
        match tokio::task::spawn_blocking(move || st.apply_updates(&updates)).await {
            Ok(Ok(upserts)) => {
                feed.publish_upserts(upserts);
            }
            Ok(Err(e)) => {
                store_errors.inc();
                tracing::error!(error = %e, "alert store rejected updates (alerts stay in the alert index)");
            }
            Err(e) => tracing::error!(error = %e, "alert store task failed"),
        }
        let n = messages.len() as u64;
        if n > 0 {
            match bus.publish(ALERTS_TOPIC, messages).await {
                Ok(_) => published.add(n),
                Err(e) => {
                    tracing::error!(error = %e, alerts = n, "cannot publish alerts on the bus")
                }
            }
        }
    }
}

/// Hunts the index for indicators a feed refresh added (over `intel.retro_hunt_days`), once
/// the events matched with the previous set are committed (`settle`); the matches go through
/// the grouper like any detection, into the alert index and the alert sink.
#[allow(clippy::too_many_arguments)]
async fn retro_hunts(
    manager: Arc<sen_analyzer::intel::IntelManager>,
    mut new_iocs: tokio::sync::mpsc::Receiver<sen_analyzer::intel::NewIocs>,
    index: Arc<IndexStore>,
    alerts_index: Arc<IndexStore>,
    detector: Arc<Detector>,
    sink: tokio::sync::mpsc::Sender<Vec<AlertUpdate>>,
    settle: Duration,
    shutdown: CancellationToken,
) {
    loop {
        let batch = tokio::select! {
            _ = shutdown.cancelled() => {
                manager.shutdown();
                return;
            }
            b = new_iocs.recv() => match b { Some(b) => b, None => return },
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(settle) => {}
        }
        let Some((since, until)) = manager.retro_hunt_window(chrono::Utc::now()) else { continue };
        let (idx, aidx, det) = (index.clone(), alerts_index.clone(), detector.clone());
        let limit = manager.config().retro_hunt_limit;
        let feed = batch.feed.clone();
        let r =
            tokio::task::spawn_blocking(move || -> anyhow::Result<(usize, Vec<AlertUpdate>)> {
                let hunt = sen_analyzer::intel::retro_hunt(&idx, &batch.iocs, since, until, limit)?;
                let detections: Vec<_> = hunt
                    .hits
                    .iter()
                    .map(|(e, h)| h.detection(e, sen_analyzer::detect::CAPTURED.iter().copied()))
                    .collect();
                let n = detections.len();
                let updates = det.group(detections);
                let now = chrono::Utc::now();
                let docs: Vec<_> = updates
                    .iter()
                    .filter_map(AlertUpdate::alert)
                    .map(|a| aidx.prepare(&a.to_event(), None, true, now))
                    .collect();
                aidx.add_prepared(docs)?;
                aidx.commit(Duration::from_secs(600))?;
                Ok((n, updates))
            })
            .await;
        match r {
            Ok(Ok((n, updates))) => {
                tracing::info!(feed = %feed, matches = n, "retro-hunt done");
                if !updates.is_empty() && sink.send(updates).await.is_err() {
                    return;
                }
            }
            Ok(Err(e)) => tracing::error!(feed = %feed, error = %e, "retro-hunt failed"),
            Err(e) => tracing::error!(feed = %feed, error = %e, "retro-hunt task failed"),
        }
    }
}

/// Keeps the grouper's suppressions equal to the store's active ones: at start, whenever the
/// console changes them, and as they expire (checked every 30 s).
async fn sync_suppressions(
    detector: Arc<Detector>,
    store: Arc<sen_analyzer::alerts::AlertStore>,
    feed: sen_analyzer::alerts::AlertFeed,
    shutdown: CancellationToken,
) {
    let mut changed = feed.watch_suppressions();
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        let (st, f) = (store.clone(), feed.clone());
        let active = tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now();
            if let Ok(ended) = st.expire_suppressions(now)
                && !ended.is_empty()
            {
                f.suppressions_changed();
            }
            st.active_suppressions(now)
        })
        .await;
        match active {
            Ok(Ok(list)) => detector.sync_suppressions(list),
            Ok(Err(e)) => tracing::error!(error = %e, "cannot read suppressions"),
            Err(e) => tracing::error!(error = %e, "suppression task failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = changed.changed() => if r.is_err() { return },
            _ = tick.tick() => {}
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
