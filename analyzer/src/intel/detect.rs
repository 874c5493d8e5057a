//! From an [`IocHit`] to an alert [`Detection`].
//!
//! The rule of an IOC match is one per feed and indicator type: id `ioc:<feed>:<type>`, kind
//! [`DetectionKind::Ioc`], the feed's level, tag `intel.<feed>`, grouped by the field that
//! matched (so one alert is one indicator seen at one entity: `destination.ip=198.51.100.7`).
//! Its title names the indicator and the feed: `Threat intel match: ip 198.51.100.7 (abuse)`.
//!
//! The detection also captures, beside the rule's entity fields, the indicator's details in
//! ECS threat fields (its [`MatchedEvent::fields`]), which suppressions can match on
//! (`threat.feed.name = abuse`):
//!
//! | field | value |
//! |---|---|
//! | `threat.feed.name` | feed name |
//! | `threat.indicator.type` | STIX type (`ipv4-addr`, `domain-name`, `url`, `file` …) |
//! | `threat.indicator.name` | the indicator's canonical value |
//! | `threat.indicator.description` | its description, else its name |
//! | `threat.indicator.confidence` | `None` / `Low` / `Medium` / `High` |
//! | `threat.indicator.provider` | feed name |
//! | `threat.enrichments.matched.atomic` | the event's value that matched |
//! | `threat.enrichments.matched.field` | the field it is in |
//! | `threat.enrichments.matched.id` | the source id (STIX id, MISP uuid, CSV line) |
//! | `threat.enrichments.matched.type` | `indicator_match_rule` |

use std::sync::Arc;

use sen_core::Event;

use super::set::IocHit;
use crate::alerts::{Detection, DetectionKind, MAX_FIELD_VALUE_BYTES, MatchedEvent, RuleMeta};

/// Longest indicator value shown in a rule title, in bytes.
const TITLE_VALUE_BYTES: usize = 200;

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl IocHit {
    /// The rule id of this hit: `ioc:<feed>:<type>`.
    pub fn rule_id(&self) -> String {
        format!("ioc:{}:{}", self.ioc.feed.name, self.ioc.kind())
    }

    /// The rule metadata of this hit (see the [module docs](self)).
    pub fn rule(&self) -> Arc<RuleMeta> {
        let value = self.ioc.value.to_string();
        let shown = if value.len() > TITLE_VALUE_BYTES {
            format!("{}…", cut(&value, TITLE_VALUE_BYTES))
        } else {
            value
        };
        Arc::new(RuleMeta {
            id: self.rule_id(),
            title: format!(
                "Threat intel match: {} {shown} ({})",
                self.ioc.kind(),
                self.ioc.feed.name
            ),
            level: self.ioc.feed.level,
            tags: vec![format!("intel.{}", self.ioc.feed.name)],
            group_by: Some(vec![self.field.to_owned()]),
            kind: DetectionKind::Ioc,
            author: None,
        })
    }

    /// Add the indicator's details (the `threat.*` fields of the [module docs](self)) to a
    /// matched event.
    pub fn annotate(&self, m: &mut MatchedEvent) {
        let ioc = &self.ioc;
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                m.fields.insert(k.to_owned(), cut(v, MAX_FIELD_VALUE_BYTES).to_owned());
            }
        };
        put("threat.feed.name", &ioc.feed.name);
        put("threat.indicator.type", ioc.value.stix_type());
        put("threat.indicator.name", &ioc.value.to_string());
        if let Some(d) = ioc.description.as_deref().or(ioc.name.as_deref()) {
            put("threat.indicator.description", d);
        }
        if let Some(c) = ioc.confidence_label() {
            put("threat.indicator.confidence", c);
        }
        put("threat.indicator.provider", &ioc.feed.name);
        put("threat.enrichments.matched.atomic", &self.matched);
        put("threat.enrichments.matched.field", self.field);
        put("threat.enrichments.matched.id", &ioc.source_id);
        put("threat.enrichments.matched.type", "indicator_match_rule");
        let mut why = format!(
            "{} = {} matches {} indicator {} from feed {} ({})",
            self.field,
            cut(&self.matched, 200),
            ioc.kind(),
            cut(&ioc.value.to_string(), 200),
            ioc.feed.name,
            ioc.source_id
        );
        if let Some(d) = ioc.description.as_deref().or(ioc.name.as_deref()) {
            why.push_str(": ");
            why.push_str(cut(d, 200));
        }
        m.reason = Some(why);
    }

    /// The detection of this hit on `event`: the rule from [`IocHit::rule`], capturing its
    /// entity field and `extra_fields` (for instance
    /// [`AlertGrouper::capture_fields`](crate::alerts::AlertGrouper::capture_fields), so
    /// suppressions on event fields apply), plus the indicator's details
    /// ([`IocHit::annotate`]).
    pub fn detection<'a>(
        &self,
        event: &Event,
        extra_fields: impl IntoIterator<Item = &'a str>,
    ) -> Detection {
        let mut d = Detection::new(self.rule(), event, extra_fields);
        self.annotate(&mut d.event);
        d
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::alerts::{AlertGrouper, AlertUpdate, GrouperConfig, Level};
    use crate::intel::ioc::{FeedInfo, Ioc, IocKind, IocValue};

    fn hit(kind: IocKind, v: &str, field: &'static str, matched: &str) -> IocHit {
        let mut ioc = Ioc::new(
            IocValue::parse(kind, v).unwrap(),
            FeedInfo::new("abuse", Level::Critical),
            "indicator--1",
        );
        ioc.description = Some("botnet c2".into());
        ioc.confidence = Some(80);
        IocHit { ioc: Arc::new(ioc), field, matched: matched.into() }
    }

    #[test]
    fn rule_names_indicator_and_feed() {
        let h = hit(IocKind::Ip, "198.51.100.7", "destination.ip", "198.51.100.7");
        let r = h.rule();
        assert_eq!(r.id, "ioc:abuse:ip");
        assert_eq!(r.title, "Threat intel match: ip 198.51.100.7 (abuse)");
        assert_eq!(r.level, Level::Critical);
        assert_eq!(r.kind, DetectionKind::Ioc);
        assert_eq!(r.tags, ["intel.abuse"]);
        assert_eq!(r.group_by.as_deref(), Some(&["destination.ip".to_owned()][..]));
        let long = format!("http://evil.example/{}", "a".repeat(500));
        let r = hit(IocKind::Url, &long, "url.full", &long).rule();
        assert!(r.title.len() < 260 && r.title.ends_with("… (abuse)"), "{}", r.title);
    }

    #[test]
    fn detection_captures_entity_and_threat_fields_and_groups() {
        let h = hit(IocKind::Domain, "evil.example", "dns.question.name", "a.evil.example");
        let mut e = Event::new("ev1".into(), Utc::now(), "q a.evil.example");
        e.organization = Some("org1".into());
        e.set("dns.question.name", "a.evil.example");
        e.set("host.name", "pc7");
        let d = h.detection(&e, ["host.name"]);
        let f = &d.event.fields;
        assert_eq!(f["dns.question.name"], "a.evil.example");
        assert_eq!(f["host.name"], "pc7");
        assert_eq!(f["organization.id"], "org1");
        assert_eq!(f["threat.feed.name"], "abuse");
        assert_eq!(f["threat.indicator.name"], "evil.example");
        assert_eq!(f["threat.indicator.type"], "domain-name");
        assert_eq!(f["threat.indicator.confidence"], "High");
        assert_eq!(f["threat.indicator.description"], "botnet c2");
        assert_eq!(f["threat.enrichments.matched.atomic"], "a.evil.example");
        assert_eq!(f["threat.enrichments.matched.field"], "dns.question.name");
        assert_eq!(f["threat.enrichments.matched.id"], "indicator--1");
        let entity = d.entity();
        assert_eq!(entity.get("dns.question.name"), Some("a.evil.example"));
        assert_eq!(entity.0.len(), 2, "the matched field and the tenant: {entity:?}");
        let mut g = AlertGrouper::new(GrouperConfig::default()).unwrap();
        let updates = g.observe(d, Utc::now());
        let AlertUpdate::Created(alert) = &updates[0] else { panic!("{updates:?}") };
        assert_eq!(alert.rule_title, "Threat intel match: domain evil.example (abuse)");
        let doc = alert.to_event();
        assert_eq!(doc.get_str("rule.id"), Some("ioc:abuse:domain"));
        assert_eq!(doc.get_str("sen.alert.kind"), Some("ioc"));
        assert_eq!(doc.get_str("dns.question.name"), Some("a.evil.example"));
    }
}
