//! The Tantivy schema of an event index, and the mapping from ECS paths to index fields.
//!
//! Hot ECS fields get typed index fields (keyword, IP, integer, date, full text); everything else
//! goes into one JSON field (`attrs`) so any field is still searchable by its dotted path. The
//! whole event is stored (zstd doc store) as its JSON form in `doc`.

use tantivy::schema::{
    DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption, JsonObjectOptions,
    NumericOptions, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};

/// The indexed form of an event id.
pub fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// Name of the keyword tokenizer (whole value, lowercased).
pub const KEYWORD_TOKENIZER: &str = "kw";
/// Name of the full-text tokenizer.
pub const TEXT_TOKENIZER: &str = "default";

/// How an ECS field is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exact value, case-insensitive, aggregatable (fast).
    Keyword,
    /// Full text (tokenized).
    Text,
    /// IP address (exact and CIDR range), aggregatable.
    Ip,
    /// Signed integer, range-searchable, aggregatable.
    Int,
}

/// One typed index field.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The ECS dotted path.
    pub path: &'static str,
    /// The Tantivy field name.
    pub name: &'static str,
    /// How it is indexed.
    pub kind: Kind,
}

macro_rules! specs {
    ($($path:literal => $name:literal : $kind:ident),* $(,)?) => {
        /// The typed fields of the event index.
        pub const FIELDS: &[FieldSpec] = &[$(FieldSpec { path: $path, name: $name, kind: Kind::$kind }),*];
    };
}

specs! {
    "organization.id" => "organization_id": Keyword,
    "host.name" => "host_name": Keyword,
    "host.hostname" => "host_hostname": Keyword,
    "event.kind" => "event_kind": Keyword,
    "event.category" => "event_category": Keyword,
    "event.type" => "event_type": Keyword,
    "event.action" => "event_action": Keyword,
    "event.outcome" => "event_outcome": Keyword,
    "event.module" => "event_module": Keyword,
    "event.dataset" => "event_dataset": Keyword,
    "event.code" => "event_code": Keyword,
    "log.level" => "log_level": Keyword,
    "process.name" => "process_name": Keyword,
    "user.name" => "user_name": Keyword,
    "source.user.name" => "source_user_name": Keyword,
    "http.request.method" => "http_request_method": Keyword,
    "url.path" => "url_path": Keyword,
    "url.domain" => "url_domain": Keyword,
    "network.transport" => "network_transport": Keyword,
    "observer.vendor" => "observer_vendor": Keyword,
    "observer.product" => "observer_product": Keyword,
    "source.geo.country_iso_code" => "source_geo_country_iso_code": Keyword,
    "source.as.organization.name" => "source_as_organization_name": Keyword,
    "destination.geo.country_iso_code" => "destination_geo_country_iso_code": Keyword,
    "dns.question.name" => "dns_question_name": Keyword,
    "file.path" => "file_path": Keyword,
    "tags" => "tags": Keyword,
    "input.type" => "input_type": Keyword,
    "sen.system.id" => "sen_system_id": Keyword,
    "sen.zone" => "sen_zone": Keyword,
    "message" => "message": Text,
    "user_agent.original" => "user_agent_original": Text,
    "url.original" => "url_original": Text,
    "error.message" => "error_message": Text,
    "source.ip" => "source_ip": Ip,
    "destination.ip" => "destination_ip": Ip,
    "host.ip" => "host_ip": Ip,
    "client.ip" => "client_ip": Ip,
    "related.ip" => "related_ip": Ip,
    "source.port" => "source_port": Int,
    "destination.port" => "destination_port": Int,
    "process.pid" => "process_pid": Int,
    "http.response.status_code" => "http_response_status_code": Int,
    "http.response.body.bytes" => "http_response_body_bytes": Int,
    "event.severity" => "event_severity": Int,
    "source.as.number" => "source_as_number": Int,
    "sen.system.level" => "sen_system_level": Int,
}

/// Find the typed field for an ECS path.
pub fn spec_for(path: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|s| s.path == path)
}

/// Tantivy name of the event id field.
pub const ID: &str = "id";
/// Tantivy name of the timestamp field.
pub const TS: &str = "ts";
/// Tantivy name of the JSON remainder field.
pub const ATTRS: &str = "attrs";
/// Tantivy name of the stored event document.
pub const DOC: &str = "doc";

/// Field handles of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    /// The schema.
    pub schema: Schema,
    /// `event.id`, as [`id_hash`] (exact lookups and idempotent upserts).
    pub id: Field,
    /// `@timestamp` (fast, millisecond precision).
    pub ts: Field,
    /// Everything without a typed field.
    pub attrs: Field,
    /// The stored event JSON.
    pub doc: Field,
    /// Typed fields, in the order of [`FIELDS`].
    pub typed: Vec<Field>,
}

/// Build the schema.
pub fn build() -> Fields {
    let mut b = Schema::builder();
    // The id is indexed as its 64-bit hash: unique 32-character terms made the term
    // dictionary (FST) the largest single indexing cost.
    let id = b.add_u64_field(ID, INDEXED);
    let ts = b.add_date_field(
        TS,
        DateOptions::from(INDEXED).set_fast().set_precision(DateTimePrecision::Milliseconds),
    );
    let keyword = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(KEYWORD_TOKENIZER)
                .set_index_option(IndexRecordOption::Basic),
        )
        .set_fast(None);
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TEXT_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let int = NumericOptions::default().set_indexed().set_fast();
    let mut typed = Vec::with_capacity(FIELDS.len());
    for spec in FIELDS {
        let f = match spec.kind {
            Kind::Keyword => b.add_text_field(spec.name, keyword.clone()),
            Kind::Text => b.add_text_field(spec.name, text.clone()),
            Kind::Ip => b.add_ip_addr_field(spec.name, INDEXED | FAST),
            Kind::Int => b.add_i64_field(spec.name, int.clone()),
        };
        typed.push(f);
    }
    let attrs = b.add_json_field(
        ATTRS,
        JsonObjectOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(KEYWORD_TOKENIZER)
                    .set_index_option(IndexRecordOption::Basic),
            )
            .set_expand_dots_enabled(),
    );
    let doc = b.add_bytes_field(DOC, STORED);
    Fields { schema: b.build(), id, ts, attrs, doc, typed }
}

/// Register Sen's tokenizers on an index.
pub fn register_tokenizers(index: &tantivy::Index) {
    index.tokenizers().register(KEYWORD_TOKENIZER, keyword_analyzer());
}

/// The keyword analyzer: the whole value as one token, lowercased.
pub fn keyword_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build()
}
