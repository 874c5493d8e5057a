//! An event's fields (ADR 0013): dotted names to values, kept in name order in one vector, with
//! the names interned process-wide.
//!
//! A `BTreeMap<String, Value>` gave every field name its own heap allocation and spread the
//! entries over tree nodes; reading an event meant chasing one pointer per node and one per
//! name. Here the entries sit side by side, and a name is a pointer into a process-wide table
//! that every event shares (a few hundred distinct names in practice, so they stay in cache).
//! Two interned names are equal exactly when they are the same pointer ([`Name::shared`]).
//!
//! The table is bounded ([`MAX_NAMES`], [`MAX_BYTES`]): names taken from input (JSON keys) could
//! otherwise grow it without limit. A name that does not fit stays owned by its event; it
//! compares, sorts and hashes as the same text either way.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{LazyLock, Mutex};

use rustc_hash::FxHashSet;
use serde::{Serialize, Serializer};

use crate::event::Value;

/// Most names the process-wide table holds.
pub const MAX_NAMES: usize = 1 << 16;
/// Most bytes of name text the table holds.
pub const MAX_BYTES: usize = 4 << 20;
/// Longer names are never interned (no parser writes one; input may).
const MAX_LEN: usize = 256;

struct Table {
    names: FxHashSet<&'static str>,
    bytes: usize,
}

static TABLE: LazyLock<Mutex<Table>> =
    LazyLock::new(|| Mutex::new(Table { names: FxHashSet::default(), bytes: 0 }));

thread_local! {
    /// This thread's view of the table: interning a known name takes no lock.
    static LOCAL: RefCell<FxHashSet<&'static str>> = RefCell::new(FxHashSet::default());
}

/// The table's copy of `s`, adding it while the table has room.
fn intern(s: &str) -> Option<&'static str> {
    if s.len() > MAX_LEN {
        return None;
    }
    if let Some(found) = LOCAL.with(|l| l.borrow().get(s).copied()) {
        return Some(found);
    }
    let shared = {
        let mut t = TABLE.lock().unwrap_or_else(|p| p.into_inner());
        match t.names.get(s) {
            Some(&found) => found,
            None => {
                if t.names.len() >= MAX_NAMES || t.bytes + s.len() > MAX_BYTES {
                    return None;
                }
                // Leaked on purpose: the table lives as long as the process, and is bounded.
                let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
                t.bytes += s.len();
                t.names.insert(leaked);
                leaked
            }
        }
    };
    LOCAL.with(|l| l.borrow_mut().insert(shared));
    Some(shared)
}

/// A field name: text shared through the process-wide table, or owned when the table is full.
#[derive(Clone)]
pub struct Name(Repr);

#[derive(Clone)]
enum Repr {
    Shared(&'static str),
    Owned(Box<str>),
}

impl Name {
    /// The name `s`, interned when the table has room.
    pub fn new(s: &str) -> Name {
        match intern(s) {
            Some(shared) => Name(Repr::Shared(shared)),
            None => Name(Repr::Owned(s.into())),
        }
    }

    /// The name's text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Shared(s) => s,
            Repr::Owned(s) => s,
        }
    }

    /// The table's copy, when the name is interned: two interned names are the same name
    /// exactly when these are the same pointer.
    #[inline]
    pub fn shared(&self) -> Option<&'static str> {
        match self.0 {
            Repr::Shared(s) => Some(s),
            Repr::Owned(_) => None,
        }
    }

    /// The interned copy of `s` if some event already used that name (never adds to the
    /// table): for readers that key their own tables by [`Name::shared`].
    pub fn lookup(s: &str) -> Option<&'static str> {
        if let Some(found) = LOCAL.with(|l| l.borrow().get(s).copied()) {
            return Some(found);
        }
        TABLE.lock().unwrap_or_else(|p| p.into_inner()).names.get(s).copied()
    }

    /// The name as an owned `String`.
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Shared(s) => s.to_owned(),
            Repr::Owned(s) => s.into_string(),
        }
    }
}

impl Deref for Name {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        match (&self.0, &other.0) {
            (Repr::Shared(a), Repr::Shared(b)) => std::ptr::eq(*a, *b),
            _ => self.as_str() == other.as_str(),
        }
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name::new(s)
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::new(s)
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        // Not interned: the name keeps the string's own allocation.
        match intern(&s) {
            Some(shared) => Name(Repr::Shared(shared)),
            None => Name(Repr::Owned(s.into_boxed_str())),
        }
    }
}

impl From<&Name> for Name {
    fn from(n: &Name) -> Name {
        n.clone()
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.into_string()
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An event's fields, in name order.
#[derive(Clone, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(Name, Value)>,
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.entries.iter().map(|(k, v)| (k, v))).finish()
    }
}

impl Fields {
    /// No fields.
    pub fn new() -> Fields {
        Fields::default()
    }

    /// No fields, room for `n`.
    pub fn with_capacity(n: usize) -> Fields {
        Fields { entries: Vec::with_capacity(n) }
    }

    /// How many fields.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Remove every field.
    pub fn clear(&mut self) {
        self.entries.clear()
    }

    /// Where `k` is, or where it would go. Parsers mostly add names in order, so the end is
    /// tried first.
    #[inline]
    fn find(&self, k: &str) -> Result<usize, usize> {
        match self.entries.last() {
            None => return Err(0),
            Some((last, _)) if last.as_bytes() < k.as_bytes() => {
                return Err(self.entries.len());
            }
            _ => {}
        }
        // A lower-bound search whose step is a conditional move, not a branch: which half the
        // name is in is as good as random, and a mispredicted branch per step cost more than
        // the comparison.
        let key = k.as_bytes();
        let mut base = 0usize;
        let mut size = self.entries.len();
        while size > 1 {
            let half = size / 2;
            let mid = base + half;
            let le = self.entries[mid].0.as_bytes() <= key;
            base = if le { mid } else { base };
            size -= half;
        }
        match self.entries[base].0.as_bytes().cmp(key) {
            std::cmp::Ordering::Equal => Ok(base),
            std::cmp::Ordering::Less => Err(base + 1),
            std::cmp::Ordering::Greater => Err(base),
        }
    }

    /// The value of field `k`.
    #[inline]
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.find(k).ok().map(|i| &self.entries[i].1)
    }

    /// Whether field `k` is set.
    pub fn contains_key(&self, k: &str) -> bool {
        self.find(k).is_ok()
    }

    /// Set field `k`, returning the value it replaces.
    pub fn insert<K: AsRef<str> + Into<Name>>(&mut self, k: K, v: Value) -> Option<Value> {
        match self.find(k.as_ref()) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, v)),
            Err(i) => {
                self.entries.insert(i, (k.into(), v));
                None
            }
        }
    }

    /// Remove field `k`, returning its value.
    pub fn remove(&mut self, k: &str) -> Option<Value> {
        self.find(k).ok().map(|i| self.entries.remove(i).1)
    }

    /// The entry of field `k`, to fill when vacant.
    pub fn entry<K: AsRef<str> + Into<Name>>(&mut self, k: K) -> Entry<'_, K> {
        let at = self.find(k.as_ref());
        Entry { fields: self, at, key: k }
    }

    /// Keep the fields `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&Name, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v))
    }

    /// Every field, in name order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// The entries themselves, in name order (for a caller that wants their memory, e.g. to
    /// prefetch a cold event's entries before walking them).
    #[inline]
    pub fn as_slice(&self) -> &[(Name, Value)] {
        &self.entries
    }

    /// Every name, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Name> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Every value, in name order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The fields whose names start with `prefix`, in order (one range of the sorted entries).
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl DoubleEndedIterator<Item = (&'a Name, &'a Value)> + 'a {
        let from = self.find(prefix).unwrap_or_else(|i| i);
        let rest = &self.entries[from..];
        let n = rest.partition_point(|(k, _)| k.starts_with(prefix));
        rest[..n].iter().map(|(k, v)| (k, v))
    }
}

/// The iterator of [`Fields::iter`].
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, (Name, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Name, &'a Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// A field being looked up to fill ([`Fields::entry`]).
pub struct Entry<'a, K> {
    fields: &'a mut Fields,
    at: Result<usize, usize>,
    key: K,
}

impl<'a, K: AsRef<str> + Into<Name>> Entry<'a, K> {
    /// The value, set to `v` first when vacant.
    pub fn or_insert(self, v: Value) -> &'a mut Value {
        self.or_insert_with(|| v)
    }

    /// The value, set to `f()` first when vacant.
    pub fn or_insert_with(self, f: impl FnOnce() -> Value) -> &'a mut Value {
        let i = match self.at {
            Ok(i) => i,
            Err(i) => {
                self.fields.entries.insert(i, (self.key.into(), f()));
                i
            }
        };
        &mut self.fields.entries[i].1
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a Name, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Fields {
    type Item = (Name, Value);
    type IntoIter = std::vec::IntoIter<(Name, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: AsRef<str> + Into<Name>> Extend<(K, Value)> for Fields {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }
}

impl<K: AsRef<str> + Into<Name>> FromIterator<(K, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(items: I) -> Fields {
        let mut f = Fields::new();
        f.extend(items);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_map_like() {
        let mut f = Fields::new();
        assert_eq!(f.insert("b.x", Value::Int(1)), None);
        assert_eq!(f.insert("a".to_owned(), Value::Int(2)), None);
        assert_eq!(f.insert("c", Value::Int(3)), None);
        assert_eq!(f.insert("b.x", Value::Int(4)), Some(Value::Int(1)));
        assert_eq!(f.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["a", "b.x", "c"]);
        assert_eq!(f.get("b.x"), Some(&Value::Int(4)));
        assert!(f.contains_key("c") && !f.contains_key("d"));
        *f.entry("d").or_insert(Value::Int(0)) = Value::Int(5);
        *f.entry("a").or_insert_with(|| Value::Int(9)) = Value::Int(6);
        assert_eq!(f.get("a"), Some(&Value::Int(6)));
        assert_eq!(f.get("d"), Some(&Value::Int(5)));
        assert_eq!(f.remove("c"), Some(Value::Int(3)));
        f.retain(|k, _| k != "a");
        assert_eq!(f.len(), 2);
        f.insert("b.y", Value::Int(7));
        f.insert("ba", Value::Int(8));
        let pre: Vec<_> = f.with_prefix("b.").map(|(k, _)| k.as_str()).collect();
        assert_eq!(pre, ["b.x", "b.y"]);
        assert_eq!(f.with_prefix("zz").count(), 0);
    }

    #[test]
    fn names_are_shared_and_compare_as_text() {
        let a = Name::new("process.command_line");
        let b = Name::from("process.command_line".to_owned());
        assert_eq!(a.shared().map(|s| s.as_ptr()), b.shared().map(|s| s.as_ptr()));
        assert_eq!(a, b);
        assert_eq!(Name::lookup("process.command_line"), a.shared());
        let long = "x".repeat(MAX_LEN + 1);
        let owned = Name::new(&long);
        assert!(owned.shared().is_none());
        assert_eq!(owned, Name::new(&long));
        assert_eq!(owned.as_str(), long);
        assert!(Name::new("a") < Name::new("b"));
    }

    #[test]
    fn names_from_other_threads_are_the_same() {
        let here = Name::new("zeek.conn.uid");
        let there =
            std::thread::spawn(|| Name::new("zeek.conn.uid").shared().map(|s| s.as_ptr() as usize))
                .join()
                .unwrap();
        assert_eq!(here.shared().map(|s| s.as_ptr() as usize), there);
    }
}
