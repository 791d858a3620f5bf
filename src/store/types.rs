//! The domain's enumerations as database values: stored as their text names (the columns
//! are `TEXT` with `CHECK` constraints on both backends), read back as the enum.
//!
//! A value the enum does not know is a decode error, so a row the code cannot understand
//! surfaces as a 500 with its cause instead of travelling on as an unchecked string.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

use crate::domain::{Kind, Role, Status};

/// A domain enumeration with one stable text name per value.
trait StoredName: Sized + Copy {
    const WHAT: &'static str;
    fn name(self) -> &'static str;
    fn from_name(name: &str) -> Option<Self>;
}

impl StoredName for Kind {
    const WHAT: &'static str = "kind";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(name: &str) -> Option<Self> {
        Kind::parse(name).ok()
    }
}

impl StoredName for Status {
    const WHAT: &'static str = "status";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(name: &str) -> Option<Self> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

impl StoredName for Role {
    const WHAT: &'static str = "role";
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn from_name(name: &str) -> Option<Self> {
        Role::parse(name).filter(|role| role.as_str() == name)
    }
}

fn decoded<T: StoredName>(name: &str) -> Result<T, BoxDynError> {
    T::from_name(name).ok_or_else(|| format!("unknown {} {name:?} in the database", T::WHAT).into())
}

macro_rules! stored_as_text {
    ($($ty:ty),* $(,)?) => {$(
        impl Type<Sqlite> for $ty {
            fn type_info() -> SqliteTypeInfo {
                <str as Type<Sqlite>>::type_info()
            }
            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <str as Type<Sqlite>>::compatible(ty)
            }
        }

        impl Encode<'_, Sqlite> for $ty {
            fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<'_, Sqlite>>::encode(self.name(), buf)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $ty {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                decoded(<&str as Decode<'r, Sqlite>>::decode(value)?)
            }
        }

        impl Type<Postgres> for $ty {
            fn type_info() -> PgTypeInfo {
                <str as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <str as Type<Postgres>>::compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<'_, Postgres>>::encode(self.name(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $ty {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                decoded(<&str as Decode<'r, Postgres>>::decode(value)?)
            }
        }
    )*};
}

stored_as_text!(Kind, Status, Role);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_name() {
        for kind in [Kind::Bug, Kind::Feature, Kind::Feedback] {
            assert_eq!(decoded::<Kind>(kind.name()).unwrap(), kind);
        }
        for status in Status::ALL {
            assert_eq!(decoded::<Status>(status.name()).unwrap(), status);
        }
        for role in [Role::Triager, Role::Webmaster, Role::Admin] {
            assert_eq!(decoded::<Role>(role.name()).unwrap(), role);
        }
    }

    #[test]
    fn names_are_exact() {
        assert!(decoded::<Status>(" new").is_err());
        assert!(decoded::<Role>(" admin").is_err());
        assert!(decoded::<Kind>("Bug").is_err());
        let error = decoded::<Status>("archived").unwrap_err().to_string();
        assert!(error.contains("unknown status"), "{error}");
    }
}
