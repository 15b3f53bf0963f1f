//! Fair shares of a bounded number of places among accounts: an IRP's connections (at most
//! `irp_max_connections` calls open at an IRP), and the turns of the requests that send
//! documents to the IRPs. While places are free, one is taken at once; when they are all
//! taken, the next place that frees goes to the accounts that wait in turn (round robin), not
//! to whoever queued first. So one account with a burst of many GSTINs cannot make another
//! account's calls wait behind the whole burst: the other's call gets one of the next places
//! that free, whatever the length of the burst's queue.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::ids::AccountId;

/// Places shared fairly among accounts.
pub struct FairShare {
    inner: Arc<Inner>,
}

struct Inner {
    queues: Mutex<Queues>,
}

#[derive(Default)]
struct Queues {
    /// Places nobody holds (while any is free, nobody waits).
    free: usize,
    /// The calls waiting, per account, in the order they came.
    waiting: HashMap<AccountId, VecDeque<oneshot::Sender<()>>>,
    /// The accounts that wait, in the order of their turns.
    turns: VecDeque<AccountId>,
    /// How many calls wait, over all accounts.
    waiting_calls: usize,
}

/// A place taken, given back when dropped.
pub struct Place {
    inner: Arc<Inner>,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.inner.give_back();
    }
}

/// A call waiting for its turn; if it is dropped (the request gave up), its queue entry goes,
/// and a place given to it in the meantime is passed on.
struct Waiting {
    inner: Arc<Inner>,
    account: AccountId,
    turn: oneshot::Receiver<()>,
    placed: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.placed {
            return;
        }
        self.turn.close();
        if self.turn.try_recv().is_ok() {
            // The place came just before the request gave up.
            self.inner.give_back();
        } else {
            self.inner.forget_abandoned(self.account);
        }
    }
}

impl FairShare {
    /// `places` places (at least one).
    pub fn new(places: usize) -> Self {
        FairShare {
            inner: Arc::new(Inner {
                queues: Mutex::new(Queues {
                    free: places.max(1),
                    ..Queues::default()
                }),
            }),
        }
    }

    /// A place for a call of `account`: at once when one is free, else at the account's turn.
    pub async fn enter(&self, account: AccountId) -> Place {
        let turn = {
            let mut queues = self.inner.lock();
            if queues.free > 0 {
                queues.free -= 1;
                return Place {
                    inner: self.inner.clone(),
                };
            }
            let (sender, turn) = oneshot::channel();
            let queue = queues.waiting.entry(account).or_default();
            let first_of_account = queue.is_empty();
            queue.push_back(sender);
            if first_of_account {
                queues.turns.push_back(account);
            }
            queues.waiting_calls += 1;
            turn
        };
        let mut waiting = Waiting {
            inner: self.inner.clone(),
            account,
            turn,
            placed: false,
        };
        // A sender is only dropped unsent once its receiver is closed, which only `Waiting`'s
        // drop does; so the turn always comes.
        let _ = (&mut waiting.turn).await;
        waiting.placed = true;
        Place {
            inner: self.inner.clone(),
        }
    }

    /// Calls waiting for a place now.
    pub fn waiting(&self) -> usize {
        self.inner.lock().waiting_calls
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        // No code panics while holding the lock; a poisoned lock still holds sound queues.
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place freed: to the account whose turn it is, or back to the free places.
    fn give_back(&self) {
        let mut queues = self.lock();
        while let Some(account) = queues.turns.pop_front() {
            let Some(queue) = queues.waiting.get_mut(&account) else {
                continue;
            };
            let Some(sender) = queue.pop_front() else {
                queues.waiting.remove(&account);
                continue;
            };
            if queue.is_empty() {
                queues.waiting.remove(&account);
            } else {
                // The account waits on, at the back of the turns.
                queues.turns.push_back(account);
            }
            queues.waiting_calls -= 1;
            if sender.send(()).is_ok() {
                return;
            }
            // That request gave up; its drop tidies its account's queue. Next turn.
        }
        queues.free += 1;
    }

    /// Drops the entries of requests of `account` that gave up while waiting.
    fn forget_abandoned(&self, account: AccountId) {
        let mut queues = self.lock();
        let Some(queue) = queues.waiting.get_mut(&account) else {
            return;
        };
        let before = queue.len();
        queue.retain(|sender| !sender.is_closed());
        let gone = before - queue.len();
        let now_empty = queue.is_empty();
        queues.waiting_calls -= gone;
        if now_empty {
            queues.waiting.remove(&account);
            queues.turns.retain(|waiting| *waiting != account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn account(n: u128) -> AccountId {
        AccountId::from(uuid::Uuid::from_u128(n))
    }

    /// Enters in the background, notes the place given, and gives it back at once.
    fn queue_up(
        share: &Arc<FairShare>,
        who: &'static str,
        account: AccountId,
        order: &Arc<Mutex<Vec<&'static str>>>,
    ) -> tokio::task::JoinHandle<()> {
        let (share, order) = (share.clone(), order.clone());
        tokio::spawn(async move {
            let place = share.enter(account).await;
            order.lock().unwrap().push(who);
            drop(place);
        })
    }

    async fn until_waiting(share: &FairShare, calls: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while share.waiting() != calls {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
    }

    async fn all_done(handles: Vec<tokio::task::JoinHandle<()>>) {
        let done = tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::future::join_all(handles),
        )
        .await;
        assert!(done.is_ok(), "a call never got a place");
    }

    #[tokio::test]
    async fn a_freed_place_goes_to_the_accounts_in_turn_not_to_the_longest_queue() {
        let share = Arc::new(FairShare::new(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = share.enter(account(1)).await;
        let mut calls = Vec::new();
        for who in ["a1", "a2", "a3"] {
            calls.push(queue_up(&share, who, account(1), &order));
            until_waiting(&share, calls.len()).await;
        }
        calls.push(queue_up(&share, "b1", account(2), &order));
        until_waiting(&share, 4).await;
        drop(held);
        all_done(calls).await;
        // Account 1 was first in turn, then account 2, whatever account 1 had queued.
        assert_eq!(*order.lock().unwrap(), ["a1", "b1", "a2", "a3"]);
        assert_eq!(share.waiting(), 0);
    }

    #[tokio::test]
    async fn a_request_that_gives_up_while_waiting_leaves_no_trace() {
        let share = Arc::new(FairShare::new(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = share.enter(account(1)).await;
        let gave_up = queue_up(&share, "gave up", account(2), &order);
        until_waiting(&share, 1).await;
        gave_up.abort();
        let _ = gave_up.await;
        assert_eq!(share.waiting(), 0);
        let next = queue_up(&share, "next", account(3), &order);
        until_waiting(&share, 1).await;
        drop(held);
        all_done(vec![next]).await;
        assert_eq!(*order.lock().unwrap(), ["next"]);
        // Every place came back: the one place is free again at once.
        let again = tokio::time::timeout(Duration::from_secs(10), share.enter(account(4))).await;
        assert!(again.is_ok(), "a place was lost");
    }
}
