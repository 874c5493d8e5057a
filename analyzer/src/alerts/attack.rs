//! MITRE ATT&CK from Sigma tags.
//!
//! Sigma rules carry ATT&CK references as tags in the `attack` namespace. This module turns
//! them into the ECS `threat.*` model:
//!
//! | tag                                  | becomes                                            |
//! |--------------------------------------|----------------------------------------------------|
//! | `attack.t1110`                       | technique `T1110`                                  |
//! | `attack.t1059.001`                   | sub-technique `T1059.001` of technique `T1059`     |
//! | `attack.credential_access`           | tactic `TA0006` "Credential Access"                |
//! | `attack.credential-access`           | the same (Sigma's newer, hyphenated spelling)      |
//! | `attack.ta0006`                      | the same, by id                                    |
//! | `attack.g0016`                       | group `G0016` (not a technique)                    |
//! | `attack.s0002`                       | software `S0002` (not a technique)                 |
//!
//! Matching is case-insensitive and ignores surrounding white space. Tags outside the
//! `attack.` namespace (`cve.…`, `car.…`, `detection.…`, `tlp.…`) and `attack.` tags that are
//! none of the above (a misspelled tactic, `attack.t105`, an ICS tactic) are ignored: they stay
//! in the alert's `tags` but add nothing to `threat`. Parsing never fails.
//!
//! Tactic names come from [`ENTERPRISE_TACTICS`], the 14 tactics of the Enterprise matrix.
//! Technique names are not known here (there are hundreds and they change every release), so
//! only ids and reference URLs are produced.

use serde::{Deserialize, Serialize};

/// Name of the framework, as written to ECS `threat.framework`.
pub const FRAMEWORK: &str = "MITRE ATT&CK";

/// One tactic of the ATT&CK Enterprise matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TacticInfo {
    /// Tactic id (`TA0006`).
    pub id: &'static str,
    /// Display name (`Credential Access`).
    pub name: &'static str,
    /// Short name as used in Sigma tags, with underscores (`credential_access`).
    pub short_name: &'static str,
}

/// The 14 tactics of the ATT&CK Enterprise matrix, in kill-chain order.
pub const ENTERPRISE_TACTICS: [TacticInfo; 14] = [
    TacticInfo { id: "TA0043", name: "Reconnaissance", short_name: "reconnaissance" },
    TacticInfo { id: "TA0042", name: "Resource Development", short_name: "resource_development" },
    TacticInfo { id: "TA0001", name: "Initial Access", short_name: "initial_access" },
    TacticInfo { id: "TA0002", name: "Execution", short_name: "execution" },
    TacticInfo { id: "TA0003", name: "Persistence", short_name: "persistence" },
    TacticInfo { id: "TA0004", name: "Privilege Escalation", short_name: "privilege_escalation" },
    TacticInfo { id: "TA0005", name: "Defense Evasion", short_name: "defense_evasion" },
    TacticInfo { id: "TA0006", name: "Credential Access", short_name: "credential_access" },
    TacticInfo { id: "TA0007", name: "Discovery", short_name: "discovery" },
    TacticInfo { id: "TA0008", name: "Lateral Movement", short_name: "lateral_movement" },
    TacticInfo { id: "TA0009", name: "Collection", short_name: "collection" },
    TacticInfo { id: "TA0011", name: "Command and Control", short_name: "command_and_control" },
    TacticInfo { id: "TA0010", name: "Exfiltration", short_name: "exfiltration" },
    TacticInfo { id: "TA0040", name: "Impact", short_name: "impact" },
];

/// Look a tactic up by id (`TA0006`, any case) or Sigma short name (`credential_access` or
/// `credential-access`, any case).
pub fn tactic(key: &str) -> Option<&'static TacticInfo> {
    let key = key.trim();
    ENTERPRISE_TACTICS.iter().find(|t| {
        t.id.eq_ignore_ascii_case(key)
            || (t.short_name.len() == key.len()
                && t.short_name
                    .bytes()
                    .zip(key.bytes())
                    .all(|(a, b)| a == b.to_ascii_lowercase() || (a == b'_' && b == b'-')))
    })
}

/// A tactic an alert relates to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    /// Tactic id (`TA0006`).
    pub id: String,
    /// Display name (`Credential Access`).
    pub name: String,
}

impl Tactic {
    /// The tactic's page on attack.mitre.org.
    pub fn reference(&self) -> String {
        format!("https://attack.mitre.org/tactics/{}/", self.id)
    }
}

/// A technique or sub-technique an alert relates to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// Full id: `T1110` for a technique, `T1059.001` for a sub-technique.
    pub id: String,
    /// For a sub-technique, its parent technique (`T1059`); `None` for a technique.
    pub parent: Option<String>,
}

impl Technique {
    /// Whether this is a sub-technique.
    pub fn is_subtechnique(&self) -> bool {
        self.parent.is_some()
    }

    /// The technique-level id: the parent of a sub-technique, else the id itself.
    pub fn technique_id(&self) -> &str {
        self.parent.as_deref().unwrap_or(&self.id)
    }

    /// The page on attack.mitre.org (`…/techniques/T1059/001/` for a sub-technique).
    pub fn reference(&self) -> String {
        format!("https://attack.mitre.org/techniques/{}/", self.id.replace('.', "/"))
    }
}

/// Reference URL of a technique-level id (`T1059`).
pub fn technique_reference(id: &str) -> String {
    format!("https://attack.mitre.org/techniques/{id}/")
}

/// Reference URL of a group id (`G0016`).
pub fn group_reference(id: &str) -> String {
    format!("https://attack.mitre.org/groups/{id}/")
}

/// Reference URL of a software id (`S0002`).
pub fn software_reference(id: &str) -> String {
    format!("https://attack.mitre.org/software/{id}/")
}

/// The ATT&CK context of an alert, parsed from its rule's tags. Each list keeps the order of
/// the tags and holds no duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threat {
    /// Tactics.
    pub tactics: Vec<Tactic>,
    /// Techniques and sub-techniques.
    pub techniques: Vec<Technique>,
    /// Threat groups (`G0016`).
    pub groups: Vec<String>,
    /// Software (`S0002`).
    pub software: Vec<String>,
}

impl Threat {
    /// Parse Sigma tags (see the module docs). Never fails; unknown tags are ignored.
    pub fn from_tags<S: AsRef<str>>(tags: &[S]) -> Threat {
        let mut threat = Threat::default();
        for tag in tags {
            threat.add_tag(tag.as_ref());
        }
        threat
    }

    /// Whether no ATT&CK reference was found.
    pub fn is_empty(&self) -> bool {
        self.tactics.is_empty()
            && self.techniques.is_empty()
            && self.groups.is_empty()
            && self.software.is_empty()
    }

    /// Technique-level ids (parents of sub-techniques included), deduplicated, in order.
    pub fn technique_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.techniques {
            let id = t.technique_id();
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// Sub-techniques only.
    pub fn subtechniques(&self) -> impl Iterator<Item = &Technique> {
        self.techniques.iter().filter(|t| t.is_subtechnique())
    }

    fn add_tag(&mut self, tag: &str) {
        let tag = tag.trim();
        let Some(rest) = strip_prefix_ignore_case(tag, "attack.") else {
            return;
        };
        if let Some(t) = parse_technique(rest) {
            if !self.techniques.contains(&t) {
                self.techniques.push(t);
            }
        } else if let Some(id) = parse_prefixed_id(rest, 'g') {
            push_unique(&mut self.groups, id);
        } else if let Some(id) = parse_prefixed_id(rest, 's') {
            push_unique(&mut self.software, id);
        } else if let Some(info) = tactic(rest)
            && !self.tactics.iter().any(|t| t.id == info.id)
        {
            self.tactics.push(Tactic { id: info.id.to_owned(), name: info.name.to_owned() });
        }
    }
}

fn push_unique(list: &mut Vec<String>, id: String) {
    if !list.contains(&id) {
        list.push(id);
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { s.get(prefix.len()..) } else { None }
}

fn all_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `t1059` or `t1059.001` (any case).
fn parse_technique(s: &str) -> Option<Technique> {
    let (first, rest) = s.split_at_checked(1)?;
    if !first.eq_ignore_ascii_case("t") {
        return None;
    }
    match rest.split_once('.') {
        None if all_digits(rest, 4) => Some(Technique { id: format!("T{rest}"), parent: None }),
        Some((tech, sub)) if all_digits(tech, 4) && all_digits(sub, 3) => {
            Some(Technique { id: format!("T{tech}.{sub}"), parent: Some(format!("T{tech}")) })
        }
        _ => None,
    }
}

/// `g0016` → `G0016` (with `letter` = `g`), any case.
fn parse_prefixed_id(s: &str, letter: char) -> Option<String> {
    let (first, rest) = s.split_at_checked(1)?;
    if !first.eq_ignore_ascii_case(letter.encode_utf8(&mut [0; 4])) || !all_digits(rest, 4) {
        return None;
    }
    Some(format!("{}{rest}", letter.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_and_subtechniques() {
        let t = Threat::from_tags(&["attack.t1110", "attack.t1059.001", "attack.T1059.003"]);
        assert_eq!(
            t.techniques,
            vec![
                Technique { id: "T1110".into(), parent: None },
                Technique { id: "T1059.001".into(), parent: Some("T1059".into()) },
                Technique { id: "T1059.003".into(), parent: Some("T1059".into()) },
            ]
        );
        assert_eq!(t.technique_ids(), vec!["T1110", "T1059"]);
        assert_eq!(t.subtechniques().count(), 2);
        assert_eq!(t.techniques[1].reference(), "https://attack.mitre.org/techniques/T1059/001/");
        assert_eq!(t.techniques[0].reference(), "https://attack.mitre.org/techniques/T1110/");
    }

    #[test]
    fn tactics_by_short_name_both_spellings_and_id() {
        let t = Threat::from_tags(&[
            "attack.credential_access",
            "attack.Lateral-Movement",
            "attack.command_and_control",
            "attack.ta0040",
            "attack.credential-access", // duplicate of the first
        ]);
        let got: Vec<(&str, &str)> =
            t.tactics.iter().map(|t| (t.id.as_str(), t.name.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("TA0006", "Credential Access"),
                ("TA0008", "Lateral Movement"),
                ("TA0011", "Command and Control"),
                ("TA0040", "Impact"),
            ]
        );
        assert_eq!(t.tactics[0].reference(), "https://attack.mitre.org/tactics/TA0006/");
    }

    #[test]
    fn groups_and_software_are_not_techniques() {
        let t = Threat::from_tags(&["attack.g0016", "attack.s0002", "attack.G0016"]);
        assert!(t.techniques.is_empty());
        assert!(t.tactics.is_empty());
        assert_eq!(t.groups, vec!["G0016"]);
        assert_eq!(t.software, vec!["S0002"]);
        assert_eq!(group_reference("G0016"), "https://attack.mitre.org/groups/G0016/");
        assert_eq!(software_reference("S0002"), "https://attack.mitre.org/software/S0002/");
    }

    #[test]
    fn everything_else_is_ignored_without_panicking() {
        let t = Threat::from_tags(&[
            "cve.2021-44228",
            "car.2016-04-005",
            "detection.threat_hunting",
            "attack.",
            "attack",
            "attack.t105",
            "attack.t10590",
            "attack.t1059.01",
            "attack.t1059.0011",
            "attack.t1059.",
            "attack.tx059",
            "attack.ta9999",
            "attack.g16",
            "attack.s",
            "attack.credential access",
            "attack.é",
            "attack.t\u{e9}059",
            "",
            "ättack.t1059",
        ]);
        assert!(t.is_empty(), "{t:?}");
    }

    #[test]
    fn table_has_fourteen_distinct_tactics() {
        let mut ids: Vec<&str> = ENTERPRISE_TACTICS.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 14);
        for t in &ENTERPRISE_TACTICS {
            assert_eq!(tactic(t.short_name), Some(t));
            assert_eq!(tactic(&t.id.to_lowercase()), Some(t));
            assert_eq!(tactic(&t.short_name.replace('_', "-")), Some(t));
        }
        assert_eq!(tactic("nope"), None);
    }
}
