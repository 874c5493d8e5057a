//! The rule packs Sen ships (`rules/packs/`), embedded in the binary at build time.
//!
//! Sen's own rules (each has golden test events in `rules/tests/golden/`):
//!
//! * `linux/`: SSH authentication outcomes, sudo root shells, account creation and
//!   administrative group changes (ECS fields from sen-parse's Linux parsers);
//! * `web/`: scanner user agents and exploitation payloads in request URLs (web access logs);
//! * `network/`: firewall denies (ECS, any firewall sen-parse understands); from a Zeek sensor,
//!   scan and password-guessing notices and failed SSH authentications;
//! * `windows/`: Security log logon failures;
//! * `zeek/`: SigmaHQ's rules for Zeek logs, copied unchanged (DRL 1.1; `packs/README.md` says
//!   which and why the others are left out). A built-in rule whose id a rule of the operator's
//!   own paths has is shadowed by it ([`crate::sigma::LoadReport::shadowed`]);
//! * `correlation/`: SSH brute force (from host logs, and as a Zeek sensor sees it), brute
//!   force followed by success, password spraying, port scan, web scan followed by
//!   exploitation.
//!
//! A curated subset of SigmaHQ's rules, copied unchanged under `sigmahq/` (DRL 1.1; source,
//! commit and file list in `rules/packs/README.md`): Linux auditd and syslog, web servers and
//! proxies, Cisco and DNS, and high-value Windows Security, System and process-creation rules.
//!
//! A rule loaded from elsewhere (`[detection] rules`, `--rules`) with the same `id` as a
//! built-in one wins: the built-in copy is skipped rather than reported as a duplicate, so a
//! full SigmaHQ checkout loads next to the packs without errors.

use std::collections::HashSet;
use std::path::Path;

use crate::sigma::RuleSet;

include!(concat!(env!("OUT_DIR"), "/packs.rs"));

/// Add the built-in packs to a rule set; their files are named `builtin:<path>`. Rules (and
/// correlation rules) whose `id` the set already holds are skipped; returns how many.
pub fn add_builtin(set: &mut RuleSet) -> usize {
    let ids: HashSet<String> = set
        .rules
        .iter()
        .filter_map(|(r, _)| r.id.clone())
        .chain(set.correlations.iter().filter_map(|(r, _)| r.id.clone()))
        .collect();
    let mut packs = RuleSet::default();
    for (path, yaml) in PACKS {
        packs.files += 1;
        packs.add_yaml(yaml, Path::new(&format!("builtin:{path}")));
    }
    let before = packs.rules.len() + packs.correlations.len();
    packs.rules.retain(|(r, _)| r.id.as_ref().is_none_or(|id| !ids.contains(id)));
    packs.correlations.retain(|(r, _)| r.id.as_ref().is_none_or(|id| !ids.contains(id)));
    let skipped = before - packs.rules.len() - packs.correlations.len();
    set.files += packs.files;
    set.rules.extend(packs.rules);
    set.correlations.extend(packs.correlations);
    set.filters.extend(packs.filters);
    set.errors.extend(packs.errors);
    skipped
}

/// The built-in packs as a rule set.
pub fn builtin() -> RuleSet {
    let mut set = RuleSet::default();
    add_builtin(&mut set);
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pack_file_loads_and_compiles() {
        let set = builtin();
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let (_, report) = crate::sigma::SigmaEngine::new(&set);
        assert_eq!(report.failed, 0, "{:?}", report.errors);
        assert_eq!(report.loaded, set.rules.len());
        assert!(PACKS.iter().any(|(p, _)| p.starts_with("sigmahq/")));
    }

    /// `rules/packs/README.md` lists every file of `sigmahq/` (its tables name them by path
    /// below `sigmahq/`), and no other.
    #[test]
    fn the_readme_lists_every_sigmahq_file() {
        let readme = include_str!("../packs/README.md");
        let listed: Vec<&str> = readme
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`').map(|(p, _)| p))
            // The Zeek section's table of rules left out names bare file names.
            .filter(|p| p.contains('/'))
            .collect();
        let mut shipped: Vec<&str> =
            PACKS.iter().filter_map(|(p, _)| p.strip_prefix("sigmahq/")).collect();
        shipped.sort_unstable();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, shipped);
        for (path, yaml) in PACKS.iter().filter(|(p, _)| p.starts_with("sigmahq/")) {
            assert!(yaml.contains("\nauthor: "), "{path}: SigmaHQ rules name their author");
        }
    }

    #[test]
    fn a_rule_loaded_elsewhere_wins_over_its_builtin_copy() {
        let (path, yaml) =
            PACKS.iter().find(|(p, _)| p.starts_with("sigmahq/")).expect("a SigmaHQ pack file");
        let mut set = RuleSet::default();
        set.add_yaml(yaml, Path::new("/etc/sen/sigma/copy.yml"));
        let skipped = add_builtin(&mut set);
        assert_eq!(skipped, 1, "{path}");
        let (_, report) = crate::sigma::SigmaEngine::new(&set);
        assert_eq!(report.failed, 0, "{:?}", report.errors);
        let full = builtin();
        assert_eq!(set.rules.len(), full.rules.len());
    }
}
