//! Config values as lighttpd keeps them: strings, 32-bit integers and
//! ordered arrays whose elements may carry a key. Key lookups are ASCII
//! case-insensitive, and removing a key moves the last element into the hole
//! (lighttpd's array does that, and `-p` shows it after a `+=`).

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Int(i32),
    Array(Array),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "integer",
            Value::Array(_) => "array",
        }
    }
}

/// One element: `key => value` or a bare value (key None).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Option<String>,
    pub value: Value,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Array {
    pub entries: Vec<Entry>,
}

impl Array {
    pub fn new() -> Self {
        Array::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|e| {
            e.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(key))
        })
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].value)
    }

    pub fn push(&mut self, key: Option<String>, value: Value) {
        self.entries.push(Entry { key, value });
    }

    /// Removes `key`; the last element takes its place (lighttpd's order).
    pub fn extract(&mut self, key: &str) -> Option<Entry> {
        self.position(key).map(|i| self.entries.swap_remove(i))
    }

    /// `:=`: replaces in place, or appends.
    pub fn replace(&mut self, key: String, value: Value) {
        match self.position(&key) {
            Some(i) => {
                self.entries[i] = Entry {
                    key: Some(key),
                    value,
                }
            }
            None => self.push(Some(key), value),
        }
    }

    /// Every element is a plain string without a key.
    pub fn is_string_list(&self) -> bool {
        self.entries
            .iter()
            .all(|e| e.key.is_none() && matches!(e.value, Value::Str(_)))
    }

    pub fn iter_strings(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match &e.value {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(keys: &[&str]) -> Array {
        let mut a = Array::new();
        for k in keys {
            a.push(Some(k.to_string()), Value::Int(0));
        }
        a
    }

    #[test]
    fn lookup_is_case_insensitive() {
        let a = arr(&["Server.Port"]);
        assert_eq!(a.position("server.port"), Some(0));
    }

    #[test]
    fn extract_moves_last_into_hole() {
        let mut a = arr(&["a", "b", "c", "d"]);
        a.extract("b");
        let keys: Vec<_> = a.entries.iter().map(|e| e.key.clone().unwrap()).collect();
        assert_eq!(keys, ["a", "d", "c"]);
    }

    #[test]
    fn replace_keeps_position() {
        let mut a = arr(&["a", "b"]);
        a.replace("A".into(), Value::Int(5));
        assert_eq!(a.entries[0].value, Value::Int(5));
        assert_eq!(a.entries[0].key.as_deref(), Some("A"));
    }
}
