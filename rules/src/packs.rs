//! The rule packs Sen ships (`rules/packs/`), embedded in the binary at build time.
//!
//! * `linux/`: SSH authentication outcomes, sudo root shells, account creation and
//!   administrative group changes (ECS fields from sen-parse's Linux parsers);
//! * `web/`: scanner user agents and exploitation payloads in request URLs (web access logs);
//! * `network/`: firewall denies (ECS, any firewall sen-parse understands);
//! * `windows/`: Security log logon failures;
//! * `zeek/`: SigmaHQ's rules for Zeek logs, copied unchanged (DRL 1.1; `packs/README.md` says
//!   which and why the others are left out). A built-in rule whose id a rule of the operator's
//!   own paths has is shadowed by it ([`crate::sigma::LoadReport::shadowed`]);
//! * `correlation/`: SSH brute force, brute force followed by success, password spraying,
//!   port scan, web scan followed by exploitation.
//!
//! Every rule has test events and expected alerts in `rules/tests/golden/`.

use std::path::Path;

use crate::sigma::RuleSet;

include!(concat!(env!("OUT_DIR"), "/packs.rs"));

/// Add the built-in packs to a rule set; their files are named `builtin:<path>`.
pub fn add_builtin(set: &mut RuleSet) {
    for (path, yaml) in PACKS {
        set.files += 1;
        set.add_yaml(yaml, Path::new(&format!("builtin:{path}")));
    }
}

/// The built-in packs as a rule set.
pub fn builtin() -> RuleSet {
    let mut set = RuleSet::default();
    add_builtin(&mut set);
    set
}
