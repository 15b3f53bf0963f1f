//! Owners never change once created, so each process keeps the ones it has read: most requests
//! then find their owner without a query. A leaf module, so that the state can hold it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::ids::OwnerId;
use crate::storage::OwnerRecord;

/// Owners never change once created (there is no update or delete), so every replica can
/// keep the ones it has seen in memory and skip a database read per request.
pub struct OwnerCache {
    entries: Mutex<HashMap<OwnerId, OwnerRecord>>,
    capacity: usize,
}

impl OwnerCache {
    /// A cache holding at most `capacity` owners (it starts afresh when full).
    pub fn new(capacity: usize) -> Self {
        OwnerCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The cached owner.
    pub fn get(&self, owner_id: OwnerId) -> Option<OwnerRecord> {
        self.entries.lock().ok()?.get(&owner_id).cloned()
    }

    /// Remembers an owner.
    pub fn put(&self, owner: &OwnerRecord) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(owner.id, owner.clone());
        }
    }
}
