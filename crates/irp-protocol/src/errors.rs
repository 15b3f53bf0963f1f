//! The NIC error codes the IRP returns (`nic-irp-api.md` §8 and §9), with their messages.
//! Where NIC's own wording has been seen (its published error list, the answers in
//! `vectors/nic-responses/`), the message is that wording; otherwise it is the fact sheet's
//! meaning. `{0}` marks where NIC fills in a value.

/// One NIC error code and its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NicCode {
    /// The code, as NIC sends it (a string of digits).
    pub code: &'static str,
    /// The message.
    pub message: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $message:literal;)*) => {
        $(
            #[doc = $message]
            pub const $name: NicCode = NicCode { code: $code, message: $message };
        )*
        /// Every code in the catalogue.
        pub const ALL: &[NicCode] = &[$($name),*];
    };
}

codes! {
    GSTIN_HEADER_MISSING = "1004", "Header GSTIN is required";
    INVALID_TOKEN = "1005", "Invalid Token";
    USER_NAME_MISSING = "1006", "User Name is required";
    AUTH_FAILED = "1007", "Authentication failed. Pls. inform the helpdesk";
    INVALID_LOGIN = "1008", "Invalid login credentials";
    INVALID_CLIENT = "1010", "Invalid Client-ID/Client-Secret";
    CLIENT_ID_MISSING = "1011", "Client Id is required";
    CLIENT_SECRET_MISSING = "1012", "Client Secret is required";
    PASSWORD_DECRYPTION = "1013", "Decryption of password failed";
    INACTIVE_USER = "1014", "Inactive User";
    TOKEN_GSTIN_MISMATCH = "1015", "Invalid GSTIN for this user";
    APPKEY_DECRYPTION = "1016", "Decryption of App Key failed";
    INVALID_USER = "1017", "Incorrect user id/User does not exists";
    CLIENT_NOT_MAPPED = "1018", "Client Id is not mapped to this user";
    WRONG_PASSWORD = "1019", "Incorrect Password";
    SCHEMA = "2140", "The request is not valid against the schema: {0}";
    INCOMPLETE = "2142", "Incomplete request parameters";
    IRN_OF_OTHER_GSTIN = "2143", "Invoice does not belongs to the user GSTIN";
    BAD_DATE_FORMAT = "2144", "Document date should be in dd/MM/yyyy format";
    INVALID_IRN = "2145", "IRN is not valid";
    IRN_NOT_CREATED = "2146", "Unable to create IRN, Pls. try after some time";
    SIGN_FAILED = "2147", "Unable to sign invoice, Pl try after some time";
    IRN_DATA_NOT_AVAILABLE = "2148", "Requested IRN data is not available";
    DUPLICATE_IRN = "2150", "Duplicate IRN";
    IRN_NOT_FOUND = "2154", "IRN details are not found";
    REVERSE_CHARGE_NOT_B2B = "2162", "Reverse charge is applicable only for B2B supplies";
    IGST_ON_INTRA = "2172", "IGST amount is not applicable for an intra-state supply";
    TOO_MANY_ITEMS = "2173", "Invalid number of items: at most 1000 are allowed";
    CGST_SGST_ON_INTER = "2174", "CGST and SGST amounts are not applicable for an inter-state supply";
    INVALID_HSN = "2176", "Invalid HSN code(s)-{0}";
    INVALID_UNIT = "2177", "Invalid Unit Code(s)-{0}";
    PIN_STATE_MISMATCH = "2178", "PIN code {0} does not belong to the state {1}";
    ASS_VAL_MISMATCH = "2182", "Total assessable value does not match the sum of item assessable amounts";
    SGST_VAL_MISMATCH = "2183", "Total SGST value does not match the sum of item SGST amounts";
    CGST_VAL_MISMATCH = "2184", "Total CGST value does not match the sum of item CGST amounts";
    IGST_VAL_MISMATCH = "2185", "Total IGST value does not match the sum of item IGST amounts";
    CESS_VAL_MISMATCH = "2186", "Total cess value does not match the sum of item cess amounts";
    STATE_CESS_VAL_MISMATCH = "2187", "Total state cess value does not match the sum of item state cess amounts";
    TOT_INV_VAL = "2189", "Invalid total invoice value";
    PRECEDING_DOC_MISSING = "2191", "Preceding document details are required for a credit or debit note";
    TOT_AMT = "2192", "Item {0}: TotAmt does not equal Qty x UnitPrice";
    ASS_AMT = "2193", "For HSN - {0} and Sl. No - {1}, AssAmt value should be equal to (TotAmt - Discount)";
    TOT_ITEM_VAL = "2194", "Item {0}: TotItemVal does not equal AssAmt plus taxes, cess and other charges";
    PRECEDING_DOC_ON_INVOICE = "2210", "Preceding document details are not applicable for an invoice";
    SAME_GSTIN = "2211", "Supplier and recipient GSTIN cannot be the same";
    RECIPIENT_URP = "2212", "Recipient GSTIN cannot be URP for this supply type";
    FUTURE_DATE = "2218", "Document date cannot be later than today";
    DISCOUNT_TOO_BIG = "2220", "Discount cannot be greater than or equal to the invoice value";
    CGST_NE_SGST = "2227", "Item {0}: CGST and SGST amounts must be equal";
    DUPLICATE_SLNO = "2233", "Duplicate item serial number {0}";
    IGST_RATE_MISMATCH = "2234", "Item {0}: IGST amount does not match assessable amount x GST rate";
    CGST_SGST_RATE_MISMATCH = "2235", "Item {0}: CGST/SGST amount does not match assessable amount x half the GST rate";
    GOODS_QTY_REQUIRED = "2238", "Item {0}: quantity is required for goods";
    GOODS_UNIT_REQUIRED = "2239", "Item {0}: unit is required for goods";
    INVALID_GST_RATE = "2240", "Item {0}: GST rate {1} is not valid";
    SELLER_STATE_MISMATCH = "2258", "Supplier GSTIN state code does not match the state code in SellerDtls";
    IGST_ON_INTRA_POS = "2262", "IGST on an intra-state supply needs the supplier state to equal the place of supply";
    BUYER_STATE_MISMATCH = "2265", "Recipient GSTIN state code does not match the state code in BuyerDtls";
    EWB_ACTIVE = "2230", "This IRN cannot be cancelled because  e-way bill has been generated , you can cancel   e-way bill and then try cancelling IRN";
    CESS_RATE_MISMATCH = "2266", "Item {0}: cess amount does not match assessable amount x cess rate";
    STATE_CESS_RATE_MISMATCH = "2267", "Item {0}: state cess amount does not match assessable amount x state cess rate";
    CANCEL_WINDOW = "2270", "The allowed cancellation time limit (24 hours) has crossed";
    OLD_IRN = "2283", "IRN details cannot be provided as it is generated more than 2 days ago";
    EWB_IRN_NOT_ACTIVE = "2302", "IRN is not active; e-way bill cannot be generated for it";
    LATE_REPORTING = "2305", "The document date {0} is more than 30 days before the reporting date; taxpayers with AATO of Rs 10 crore and above must report within 30 days";
    DATA_NOT_AVAILABLE = "3001", "Requested data is not available";
    PASSWORD_RULES = "3003", "Password should contain at least one upper case, one lower case, one number and one special character";
    SUB_USER_LIMIT = "3007", "You have exceeded the limit of creating sub-users";
    SUB_USER_SUFFIX = "3010", "Sub-user suffix should be at most 4 characters";
    API_USER_FROZEN = "3025", "The API user is frozen; unfreeze it in User Management on the e-invoice portal";
    GSTIN_NOT_PRESENT = "3028", "GSTIN - {0} is not present in invoice registration portal";
    GSTIN_INACTIVE = "3029", "GSTIN is not active (cancelled or suspended); sync it from the common portal";
    API_USER_BLOCKED = "3034", "The API user is blocked";
    INVALID_PIN = "3042", "Invalid PIN code {0}";
    CLIENT_NOT_WHITELISTED = "3059", "Client id for this PAN is not generated, or the request is not from a whitelisted IP";
    EWB_ALREADY_GENERATED = "4002", "EwayBill is already generated for this IRN";
    EWB_NO_GOODS = "4009", "E-way bill cannot be generated: the invoice has no goods item (every HSN is a service code)";
    EWB_NOT_FOR_DOCUMENT = "4010", "E-way bill cannot be generated for {0} or for services by IRN";
    EWB_VEHICLE_REQUIRED = "4011", "Vehicle number is required for road transport when no transport document is given";
    EWB_DISTANCE_RANGE = "4013", "Distance should be between 0 and 4000 km";
    EWB_TRANSPORT_DETAILS = "4014", "Invalid transport details: {0}";
    EWB_TRANSPORTER_REQUIRED = "4019", "Provide Transporter ID in order to generate Part A of e-Way Bill";
    EWB_DISTANCE_PIN = "4038", "Distance {0} km is more than 10% above the PIN-to-PIN distance of {1} km";
    EWB_CANCEL_NOT_ALLOWED = "312", "This e-way bill is either not generated by you or is cancelled";
    EWB_CANCEL_WINDOW = "315", "Validity period lapsed, you cannot cancel this e-way bill (24 hours from generation)";
    APPLICATION_ERROR = "5001", "Application error; please try again";
    IRN_NOT_ACTIVE = "9999", "Invoice is not active (already cancelled)";
}

/// Looks a code up.
pub fn lookup(code: &str) -> Option<NicCode> {
    ALL.iter().copied().find(|c| c.code == code)
}

impl NicCode {
    /// The message with `{0}`, `{1}`… replaced by `args`.
    pub fn format(&self, args: &[&str]) -> String {
        let mut message = self.message.to_string();
        for (i, arg) in args.iter().enumerate() {
            message = message.replace(&format!("{{{i}}}"), arg);
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_unique_and_formats_placeholders() {
        let mut codes: Vec<&str> = ALL.iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        assert_eq!(lookup("2150"), Some(DUPLICATE_IRN));
        assert_eq!(
            INVALID_GST_RATE.format(&["2", "19"]),
            "Item 2: GST rate 19 is not valid"
        );
    }
}
