//! Cisco ASA / FTD / PIX / IOS messages: `%ASA-6-302013: Built inbound …`,
//! `%SYS-5-CONFIG_I: Configured from console …`.

use sen_core::event::Event;

use crate::ecs::{self, set_str};

/// A Cisco message header and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cisco<'a> {
    pub facility: &'a str,
    pub severity: u8,
    pub mnemonic: &'a str,
    pub message: &'a str,
}

/// Parse `%FACILITY-SEVERITY-MNEMONIC: text` at the start of `s`.
pub(crate) fn parse(s: &str) -> Option<Cisco<'_>> {
    let body = s.strip_prefix('%')?;
    let b = body.as_bytes();
    let flen = b
        .iter()
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_')
        .count();
    if flen == 0 || flen > 32 || b.get(flen) != Some(&b'-') {
        return None;
    }
    let sev = *b.get(flen + 1)?;
    if !(b'0'..=b'7').contains(&sev) || b.get(flen + 2) != Some(&b'-') {
        return None;
    }
    let mstart = flen + 3;
    let mlen =
        b.get(mstart..)?.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
    // `%ASA-4-401004 Shunned …` (some ASA messages have no colon).
    if mlen == 0 || !matches!(b.get(mstart + mlen), Some(b':' | b' ')) {
        return None;
    }
    Some(Cisco {
        facility: body.get(..flen)?,
        severity: sev - b'0',
        mnemonic: body.get(mstart..mstart + mlen)?,
        message: body.get(mstart + mlen + 1..)?.trim_start(),
    })
}

/// Find a Cisco header in a syslog message (at the start, or after `: ` as IOS writes
/// `123: *Mar  1 18:48:50.483 UTC: %SYS-5-CONFIG_I: …`).
pub(crate) fn find(msg: &str) -> Option<Cisco<'_>> {
    let t = msg.trim_start_matches([' ', ':']);
    if t.starts_with('%') {
        return parse(t);
    }
    let at = msg.find(": %")?;
    parse(msg.get(at + 2..)?)
}

/// Write the fields (and the text as `message` when `set_message`).
pub(crate) fn apply(e: &mut Event, c: &Cisco<'_>, set_message: bool) {
    let firewall = matches!(c.facility, "ASA" | "FTD" | "PIX" | "FWSM");
    ecs::module(e, "cisco", if firewall { "cisco.asa" } else { "cisco.ios" });
    set_str(e, "observer.vendor", "Cisco");
    set_str(e, "observer.product", if firewall { c.facility } else { "IOS" });
    set_str(e, "cisco.facility", c.facility);
    set_str(e, "event.code", c.mnemonic);
    ecs::set_severity(e, c.severity);
    if set_message {
        set_str(e, "message", c.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let c = parse("%ASA-4-338008: Dynamic Filter dropped").unwrap();
        assert_eq!(
            (c.facility, c.severity, c.mnemonic, c.message),
            ("ASA", 4, "338008", "Dynamic Filter dropped")
        );
        let c = find("123: *Mar  1 18:48:50.483 UTC: %SYS-5-CONFIG_I: Configured from console")
            .unwrap();
        assert_eq!((c.facility, c.mnemonic), ("SYS", "CONFIG_I"));
        assert!(parse("%ASA-9-1: x").is_none());
        assert!(parse("% discount").is_none());
    }
}
