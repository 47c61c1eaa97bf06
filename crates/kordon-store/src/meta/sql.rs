//! A query assembled from pieces with numbered placeholders (`$1`, `$2`, …), which both
//! SQLite and PostgreSQL accept. sqlx's `QueryBuilder` writes `?` for the `Any` driver,
//! which PostgreSQL does not understand.

use std::fmt::Write as _;

use sqlx::any::{Any, AnyArguments};
use sqlx::{Arguments as _, Encode, Type};

use super::MetaError;

/// A query being assembled.
pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    bound: usize,
    error: Option<sqlx::error::BoxDynError>,
}

impl Sql {
    /// Starts a query with `text`.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: AnyArguments::default(),
            bound: 0,
            error: None,
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.text.push_str(text.as_ref());
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'e> Encode<'e, Any> + Type<Any>,
    {
        self.bound += 1;
        let _ = write!(self.text, "${}", self.bound);
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e);
        }
        self
    }

    /// Appends `(v1, v2, …)`, the list of texts of an `IN`.
    pub(crate) fn push_list(&mut self, values: &[impl AsRef<str>]) -> &mut Self {
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v.as_ref().to_owned());
        }
        self.push(")")
    }

    /// Appends ` AND` the condition of a page that goes on from the row keyed
    /// `(at, key)` in columns `time` and `id`: after it in ascending order, before it in
    /// descending order.
    pub(crate) fn push_page(
        &mut self,
        time: &str,
        id: &str,
        (at, key): (i64, &str),
        ascending: bool,
    ) -> &mut Self {
        let op = if ascending { ">" } else { "<" };
        self.push(format!(" AND ({time} {op} "))
            .push_bind(at)
            .push(format!(" OR ({time} = "))
            .push_bind(at)
            .push(format!(" AND {id} {op} "))
            .push_bind(key.to_owned())
            .push("))")
    }

    /// The finished query, or why a value could not be bound.
    pub(crate) fn build(self) -> Result<sqlx::query::Query<'static, Any, AnyArguments>, MetaError> {
        match self.error {
            None => Ok(sqlx::query_with(sqlx::AssertSqlSafe(self.text), self.args)),
            Some(e) => Err(MetaError::Invalid(format!("query parameter: {e}"))),
        }
    }
}
