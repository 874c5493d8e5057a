//! The ingest-time matcher allocates nothing when nothing matches (a global allocator
//! that counts this thread's allocations).

use std::sync::Arc;

use chrono::Utc;
use sen_analyzer::alerts::Level;
use sen_analyzer::intel::{FeedInfo, Ioc, IocKind, IocSet, IocValue};
use sen_core::{Event, Value};

#[path = "support/thread_alloc.rs"]
mod thread_alloc;

#[global_allocator]
static GLOBAL: thread_alloc::ThreadCounting = thread_alloc::ThreadCounting;

#[test]
fn a_miss_allocates_nothing() {
    let feed = FeedInfo::new("alloc", Level::High);
    let iocs = [
        (IocKind::Ip, "198.51.100.7"),
        (IocKind::Ip, "2001:db8::7"),
        (IocKind::Cidr, "203.0.113.0/24"),
        (IocKind::Cidr, "2001:db8:bad::/48"),
        (IocKind::Domain, "evil.example"),
        (IocKind::Url, "http://evil.example/dl.exe"),
        (IocKind::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
        (IocKind::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        (IocKind::Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ];
    let set = IocSet::build(
        iocs.iter()
            .map(|(k, v)| Arc::new(Ioc::new(IocValue::parse(*k, v).unwrap(), feed.clone(), "x"))),
    );
    let mut e = Event::new("e".into(), Utc::now(), "orig");
    e.set("source.ip", Value::Ip("192.0.2.1".parse().unwrap()));
    e.set("destination.ip", Value::Ip("2001:db8:1::1".parse().unwrap()));
    e.set("server.ip", Value::Str("203.0.114.9".into()));
    e.set("related.ip", Value::List(vec![Value::Ip("10.0.0.1".parse().unwrap())]));
    e.set("dns.question.name", "WWW.Not-Evil.Example.");
    e.set("tls.client.server_name", "a.b.c.d.e.f.example.org");
    e.set("url.full", "HTTPS://User@Good.Example:8443/Path/dl.exe?x=1#frag");
    e.set("url.original", "/index.php?q=1");
    e.set(
        "process.hash.sha256",
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B856",
    );
    e.set(
        "winlog.event_data.Hashes",
        "SHA1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80708,MD5=D41D8CD98F00B204E9800998ECF8427F,IMPHASH=00",
    );
    e.set("message", "a message with many words that nobody matches");
    e.fields.insert(
        "winlog",
        Value::json(
            serde_json::json!({"event_data": {"Hash": "MD5=00000000000000000000000000000000"}}),
        ),
    );
    let mut hits = Vec::with_capacity(8);
    set.match_event(&e, &mut hits);
    assert!(hits.is_empty(), "{hits:?}");
    let ((), misses) = thread_alloc::count(|| {
        for _ in 0..1000 {
            set.match_event(&e, &mut hits);
        }
    });
    assert!(hits.is_empty());
    assert_eq!(misses, (0, 0), "allocations during 1,000 misses");
    // A hit does allocate (the hit itself): the counter works.
    e.set("source.ip", Value::Ip("198.51.100.7".parse().unwrap()));
    let ((), hit) = thread_alloc::count(|| set.match_event(&e, &mut hits));
    assert_eq!(hits.len(), 1);
    assert!(hit.0 > 0);
}
