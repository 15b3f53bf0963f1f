//! Group commit of new e-invoices: concurrent generate calls hand their rows to one writer
//! task, which inserts whatever has queued up in a single statement and tells each caller
//! whether its row went in (or the document already had an IRN). The caller answers only
//! after its row is committed. The writer counts what it commits, so a caller that goes away
//! (its client hung up) cannot leave an IRN uncounted.

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::counters::Counters;

/// Most rows in one statement (13 parameters each, far below SQLite's limit).
const MAX_BATCH: usize = 128;

/// A new e-invoice row.
pub struct NewEinvoice {
    /// The IRN.
    pub irn: String,
    /// Seller GSTIN.
    pub gstin: String,
    /// INV, CRN or DBN.
    pub doc_type: String,
    /// Document number as sent.
    pub doc_no: String,
    /// Document number upper-cased (the duplicate key).
    pub doc_key: String,
    /// dd/mm/yyyy.
    pub doc_date: String,
    /// YYYY-YY.
    pub financial_year: String,
    /// Unique acknowledgement number.
    pub ack_no: i64,
    /// Acknowledgement time, NIC format.
    pub ack_dt: String,
    /// The signed invoice JWT.
    pub signed_invoice: String,
    /// The signed QR JWT.
    pub signed_qr_code: String,
    /// Unix ms.
    pub created_at: i64,
    /// The IRP that generated it.
    pub irp: String,
}

type Job = (NewEinvoice, oneshot::Sender<Result<bool, String>>);

/// The handle generate calls use.
pub struct EinvoiceWriter {
    jobs: mpsc::Sender<Job>,
}

impl EinvoiceWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(pool: SqlitePool, counters: Arc<Counters>) -> Self {
        let (jobs, mut queue) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                write_batch(&pool, &counters, batch).await;
            }
        });
        EinvoiceWriter { jobs }
    }

    /// Inserts a row once committed: `Ok(true)` when inserted, `Ok(false)` when the document
    /// (or IRN) already exists.
    pub async fn insert(&self, row: NewEinvoice) -> Result<bool, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((row, reply))
            .await
            .map_err(|_| "the e-invoice writer stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the e-invoice writer stopped".to_string())?
    }
}

async fn write_batch(pool: &SqlitePool, counters: &Counters, batch: Vec<Job>) {
    let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO einvoices (irn, gstin, doc_type, doc_no, doc_key, doc_date, financial_year, ack_no, ack_dt, signed_invoice, signed_qr_code, status, created_at, irp) ",
    );
    query.push_values(batch.iter(), |mut row, (e, _)| {
        row.push_bind(&e.irn)
            .push_bind(&e.gstin)
            .push_bind(&e.doc_type)
            .push_bind(&e.doc_no)
            .push_bind(&e.doc_key)
            .push_bind(&e.doc_date)
            .push_bind(&e.financial_year)
            .push_bind(e.ack_no)
            .push_bind(&e.ack_dt)
            .push_bind(&e.signed_invoice)
            .push_bind(&e.signed_qr_code)
            .push_bind("ACT")
            .push_bind(e.created_at)
            .push_bind(&e.irp);
    });
    query.push(" ON CONFLICT DO NOTHING RETURNING ack_no");
    let result: Result<Vec<i64>, sqlx::Error> = query.build_query_scalar().fetch_all(pool).await;
    match result {
        Ok(inserted) => {
            let inserted: HashSet<i64> = inserted.into_iter().collect();
            for _ in 0..inserted.len() {
                counters.irn_generated();
            }
            for (row, reply) in batch {
                let _ = reply.send(Ok(inserted.contains(&row.ack_no)));
            }
        }
        Err(e) => {
            let message = e.to_string();
            for (_, reply) in batch {
                let _ = reply.send(Err(message.clone()));
            }
        }
    }
}
