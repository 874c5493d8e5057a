//! `sen-sensors`: the network-TAP sensor (`sen sensor`).
//!
//! This crate is intentionally empty until the sensor issue: packet capture (pcap), decoding,
//! the flow table, protocol parsers (pure, no I/O, fuzzed) and a Suricata-compatible signature
//! subset will live here. Its output will be ECS events (`network.*`, `dns.*`, `http.*`, `tls.*`)
//! published on the bus like any other source, so nothing downstream changes when it lands.
