//! `sen rules check`: load and compile Sigma content, collecting every error in one pass.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// One problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    /// The file.
    pub file: PathBuf,
    /// The rule (id, else title), when the error belongs to one rule.
    pub rule: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// The outcome of checking a path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// YAML files read.
    pub files: usize,
    /// Detection rules parsed and compiled.
    pub loaded: usize,
    /// Correlation rules parsed.
    pub correlations: usize,
    /// Filter rules parsed.
    pub filters: usize,
    /// Rules or documents that failed (each listed in `errors`).
    pub failed: usize,
    /// Every error found.
    pub errors: Vec<RuleError>,
}

pub(crate) fn yaml_files(path: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<RuleError>) {
    if path.is_file() {
        out.push(path.to_owned());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            errors.push(RuleError { file: path.to_owned(), rule: None, reason: e.to_string() });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            yaml_files(&p, out, errors);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

/// Check a Sigma file or a directory tree of them.
pub fn check_path(path: &Path) -> CheckReport {
    let mut report = CheckReport::default();
    let mut files = Vec::new();
    if !path.exists() {
        report.errors.push(RuleError {
            file: path.to_owned(),
            rule: None,
            reason: "no such file or directory".into(),
        });
        report.failed = 1;
        return report;
    }
    yaml_files(path, &mut files, &mut report.errors);
    report.failed += report.errors.len();
    for file in files {
        report.files += 1;
        let collection = match rsigma_parser::parse_sigma_file(&file) {
            Ok(c) => c,
            Err(e) => {
                report.failed += 1;
                report.errors.push(RuleError { file, rule: None, reason: e.to_string() });
                continue;
            }
        };
        for e in &collection.errors {
            report.failed += 1;
            report.errors.push(RuleError { file: file.clone(), rule: None, reason: e.clone() });
        }
        for rule in &collection.rules {
            match rsigma_eval::compile_rule(rule) {
                Ok(_) => report.loaded += 1,
                Err(e) => {
                    report.failed += 1;
                    report.errors.push(RuleError {
                        file: file.clone(),
                        rule: Some(rule.id.clone().unwrap_or_else(|| rule.title.clone())),
                        reason: e.to_string(),
                    });
                }
            }
        }
        report.correlations += collection.correlations.len();
        report.filters += collection.filters.len();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "title: Whoami\nid: 0c8d1f6e-0000-4000-8000-000000000001\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\nlevel: low\n";

    #[test]
    fn good_bad_and_unsupported_are_all_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.yml"), GOOD).unwrap();
        std::fs::write(dir.path().join("broken.yml"), "title: x\ndetection: [unclosed\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let bad_modifier =
            GOOD.replace("Image|endswith", "Image|nosuchmodifier").replace("0001", "0002");
        std::fs::write(dir.path().join("sub/modifier.yaml"), bad_modifier).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let r = check_path(dir.path());
        assert_eq!(r.files, 3, "{r:?}");
        assert_eq!(r.loaded, 1, "{r:?}");
        assert_eq!(r.failed, 2, "{r:?}");
        assert!(r.errors.iter().any(|e| e.file.ends_with("broken.yml")), "{r:?}");
        assert!(
            r.errors
                .iter()
                .any(|e| e.file.ends_with("sub/modifier.yaml")
                    && e.reason.contains("nosuchmodifier")),
            "{r:?}"
        );
        let missing = check_path(&dir.path().join("nope"));
        assert_eq!(missing.failed, 1);
    }

    #[test]
    fn the_sigmahq_corpus_loads_completely() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/corpora/public/sigma/rules/rules");
        if !dir.is_dir() {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "corpus missing under CI");
            eprintln!("skipping: {} is absent", dir.display());
            return;
        }
        let r = check_path(&dir);
        for e in r.errors.iter().take(20) {
            eprintln!("{}: {:?}: {}", e.file.display(), e.rule, e.reason);
        }
        assert_eq!(r.failed, 0);
        assert_eq!(r.loaded, 3141, "{} files", r.files);
    }
}
