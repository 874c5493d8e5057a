//! HTTP ingest decoding: compression bombs, and a decoded batch through the publisher.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{MemBus, texts};
use sen_collector::{
    BatchMeta, IngestError, IngestLimits, Publisher, PublisherConfig, decode_batch,
};

const MIB: usize = 1024 * 1024;

fn limits() -> IngestLimits {
    IngestLimits {
        max_body_bytes: 4 * MIB,
        max_decompressed_bytes: 8 * MIB,
        ..IngestLimits::default()
    }
}

/// 256 MiB of a repeated JSON line, gzip-compressed into well under a megabyte.
fn gzip_bomb() -> Vec<u8> {
    let line =
        b"{\"message\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n".repeat(1024);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..(256 * MIB / line.len()) {
        e.write_all(&line).unwrap();
    }
    e.finish().unwrap()
}

#[test]
fn gzip_bomb_is_rejected_at_the_cap() {
    let bomb = gzip_bomb();
    assert!(bomb.len() < MIB, "bomb is {} bytes", bomb.len());
    let e = decode_batch(Some("gzip"), &bomb, &limits(), BatchMeta::default()).unwrap_err();
    assert_eq!(e, IngestError::DecompressedTooLarge { limit: 8 * MIB });
    assert_eq!(e.status(), 413);
}

#[test]
fn zstd_bomb_is_rejected_at_the_cap() {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    let zeros = vec![0u8; MIB];
    for _ in 0..256 {
        e.write_all(&zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < MIB, "bomb is {} bytes", bomb.len());
    let e = decode_batch(Some("zstd"), &bomb, &limits(), BatchMeta::default()).unwrap_err();
    assert_eq!(e.status(), 413, "{e}");
}

#[test]
fn oversized_compressed_body_is_rejected_before_decoding() {
    let body = vec![b'{'; 5 * MIB];
    let e = decode_batch(Some("gzip"), &body, &limits(), BatchMeta::default()).unwrap_err();
    assert_eq!(e, IngestError::BodyTooLarge { limit: 4 * MIB });
}

#[tokio::test]
async fn decoded_batch_is_acknowledged_once_durable() {
    let body = b"{\"message\":\"<13>one\"}\nnope\n{\"event\":{\"kind\":\"event\"}}\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).unwrap();
    let meta = BatchMeta {
        received_ms: 1_700_000_000_000,
        peer: Some("127.0.0.1:55555".into()),
        organization: Some("acme".into()),
        batch_id: Some("batch-7".into()),
    };
    let batch = decode_batch(Some("gzip"), &gz.finish().unwrap(), &limits(), meta).unwrap();
    assert_eq!(batch.errors.len(), 1);
    assert_eq!(batch.errors[0].line, 2);

    let bus = MemBus::new(2);
    let (publisher, task) = Publisher::spawn(
        bus.clone(),
        PublisherConfig { batch_max_delay: Duration::from_millis(5), ..Default::default() },
    );
    publisher.send_all_acked(batch.records).await.unwrap();
    let got = bus.records();
    assert_eq!(texts(&got), vec!["{\"message\":\"<13>one\"}", "{\"event\":{\"kind\":\"event\"}}"]);
    let origins: Vec<_> = got.iter().map(|r| r.origin.clone().unwrap()).collect();
    assert_eq!(origins, vec!["batch-7/0", "batch-7/2"]);
    assert!(got.iter().all(|r| r.organization.as_deref() == Some("acme")));
    task.shutdown().await;
}
