//! The documents part of the one store implementation (see `sql.rs`): the e-invoices each
//! account registered, their metadata and, while retained, their signed outputs.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, FromRow, IntoArguments, Type};
use uuid::Uuid;

use super::dialect::Dialect;
use super::sql::SqlStore;
use super::{
    AccountId, DocumentStore, EinvoiceRecord, EinvoiceStatus, EwbFields, OwnerId, StoreError,
    Timestamp,
};

const SELECT_EINVOICE: &str = "SELECT irn, account_id, owner_id, gstin, doc_type, doc_no, \
    doc_date, ack_no, ack_dt, status, request_hash, signed_invoice, signed_qr_code, retain_until, \
    created_at, cancelled_at, ewb_no, ewb_dt, ewb_valid_till, ewb_cancelled_at, irp FROM einvoices";

#[async_trait]
impl<DB: Dialect> DocumentStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Uuid: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> EinvoiceRecord: FromRow<'r, DB::Row>,
{
    async fn record_einvoice(&self, record: &EinvoiceRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO einvoices (irn, account_id, owner_id, gstin, doc_type, doc_no, doc_date, ack_no, ack_dt, status, request_hash, signed_invoice, signed_qr_code, retain_until, created_at, cancelled_at, ewb_no, ewb_dt, ewb_valid_till, irp) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
            ON CONFLICT (irn) DO UPDATE SET status = excluded.status, signed_invoice = COALESCE(excluded.signed_invoice, einvoices.signed_invoice), \
            signed_qr_code = COALESCE(excluded.signed_qr_code, einvoices.signed_qr_code), retain_until = COALESCE(excluded.retain_until, einvoices.retain_until), \
            ewb_no = COALESCE(excluded.ewb_no, einvoices.ewb_no), ewb_dt = COALESCE(excluded.ewb_dt, einvoices.ewb_dt), \
            ewb_valid_till = COALESCE(excluded.ewb_valid_till, einvoices.ewb_valid_till), \
            irp = COALESCE(einvoices.irp, excluded.irp)")
            .bind(&record.irn)
            .bind(record.account_id)
            .bind(record.owner_id)
            .bind(&record.gstin)
            .bind(&record.doc_type)
            .bind(&record.doc_no)
            .bind(&record.doc_date)
            .bind(record.ack_no)
            .bind(&record.ack_dt)
            .bind(record.status.as_str())
            .bind(&record.request_hash)
            .bind(&record.signed_invoice)
            .bind(&record.signed_qr_code)
            .bind(record.retain_until.map(Timestamp::millis))
            .bind(record.created_at)
            .bind(record.cancelled_at.map(Timestamp::millis))
            .bind(record.ewb_no)
            .bind(&record.ewb_dt)
            .bind(&record.ewb_valid_till)
            .bind(&record.irp)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn get_einvoice(
        &self,
        account_id: AccountId,
        irn: &str,
    ) -> Result<Option<EinvoiceRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "{SELECT_EINVOICE} WHERE irn = $1 AND account_id = $2"
        ))
        .bind(irn)
        .bind(account_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(EinvoiceRecord::from_row).transpose()?)
    }

    async fn list_einvoices(
        &self,
        account_id: AccountId,
        owner_id: OwnerId,
        status: Option<EinvoiceStatus>,
        before: Option<(Timestamp, String)>,
        limit: i64,
    ) -> Result<Vec<EinvoiceRecord>, StoreError> {
        // The clauses a page needs, numbered in the order they are bound.
        let mut sql = format!("{SELECT_EINVOICE} WHERE account_id = $1 AND owner_id = $2");
        let mut next = 3;
        if status.is_some() {
            sql.push_str(&format!(" AND status = ${next}"));
            next += 1;
        }
        if before.is_some() {
            sql.push_str(&format!(
                " AND (created_at < ${} OR (created_at = ${} AND irn < ${}))",
                next,
                next + 1,
                next + 2
            ));
            next += 3;
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, irn DESC LIMIT ${next}"
        ));
        let mut query = sqlx::query(&sql).bind(account_id).bind(owner_id);
        if let Some(status) = status {
            query = query.bind(status.as_str());
        }
        if let Some((at, irn)) = before {
            query = query.bind(at).bind(at).bind(irn);
        }
        let rows = query.bind(limit).fetch_all(&self.reader).await?;
        Ok(rows
            .iter()
            .map(EinvoiceRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn mark_einvoice_cancelled(
        &self,
        account_id: AccountId,
        irn: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE einvoices SET status = 'CNL', cancelled_at = $1 WHERE irn = $2 AND account_id = $3 AND status <> 'CNL'")
            .bind(at)
            .bind(irn)
            .bind(account_id)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn record_ewaybill(
        &self,
        account_id: AccountId,
        irn: &str,
        ewb: &EwbFields,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE einvoices SET ewb_no = $1, ewb_dt = $2, ewb_valid_till = $3, ewb_cancelled_at = NULL WHERE irn = $4 AND account_id = $5")
            .bind(ewb.ewb_no)
            .bind(&ewb.ewb_dt)
            .bind(&ewb.ewb_valid_till)
            .bind(irn)
            .bind(account_id)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn einvoice_by_ewb(
        &self,
        account_id: AccountId,
        ewb_no: i64,
    ) -> Result<Option<EinvoiceRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "{SELECT_EINVOICE} WHERE account_id = $1 AND ewb_no = $2"
        ))
        .bind(account_id)
        .bind(ewb_no)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(EinvoiceRecord::from_row).transpose()?)
    }

    async fn mark_ewaybill_cancelled(
        &self,
        account_id: AccountId,
        ewb_no: i64,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE einvoices SET ewb_cancelled_at = $1 WHERE account_id = $2 AND ewb_no = $3 AND ewb_cancelled_at IS NULL")
            .bind(at)
            .bind(account_id)
            .bind(ewb_no)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }
}
