//! A GSTIN as a database column (with the `sqlx` feature): written as its text, and checked
//! again when read, so a record never holds a malformed GSTIN. Stored GSTINs were validated
//! when written; reading checks the layout and state code (the sandbox's dummies pass too).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::{Gstin, Strictness};

impl<DB: Database> Type<DB> for Gstin
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for Gstin
where
    String: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<'r, DB>>::decode(value)?;
        Ok(Gstin::parse(&text, Strictness::Sandbox)?)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for Gstin
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, DB>>::encode_by_ref(&self.as_str().to_string(), buf)
    }
}
