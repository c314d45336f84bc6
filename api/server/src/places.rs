//! Places held per key, and in all, each given back when dropped: the connections one address
//! holds open, the live streams one token holds.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Why no place was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The key holds as many as one key may (how many).
    Key(usize),
    /// As many are held in all as there may be.
    Total,
}

/// The places held: in all, and per key.
#[derive(Debug)]
pub struct Places<K> {
    held: Mutex<(usize, HashMap<K, usize>)>,
}

impl<K> Default for Places<K> {
    fn default() -> Self {
        Self {
            held: Mutex::new((0, HashMap::new())),
        }
    }
}

/// One place, given back when dropped.
#[derive(Debug)]
pub struct Place<K: Hash + Eq> {
    places: Arc<Places<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Places<K> {
    /// A place for `key`, when it holds fewer than `per_key` and fewer than `total` are held.
    pub fn take(self: &Arc<Self>, key: &K, per_key: usize, total: usize) -> Result<Place<K>, Full> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let (all, per) = &mut *held;
        let mine = per.get(key).copied().unwrap_or(0);
        if mine >= per_key {
            return Err(Full::Key(mine));
        }
        if *all >= total {
            return Err(Full::Total);
        }
        *all += 1;
        per.insert(key.clone(), mine + 1);
        Ok(Place {
            places: self.clone(),
            key: key.clone(),
        })
    }

    /// Places held now, in all.
    pub fn held(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Keys holding a place now.
    pub fn keys(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).1.len()
    }
}

impl<K: Hash + Eq> Drop for Place<K> {
    fn drop(&mut self) {
        let mut held = self.places.held.lock().unwrap_or_else(|e| e.into_inner());
        let (all, per) = &mut *held;
        *all = all.saturating_sub(1);
        if let Some(n) = per.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.key);
            }
        }
    }
}
