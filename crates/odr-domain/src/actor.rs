//! Who acts on a complaint. Roles are the actors of lifecycle.md; `System`
//! is the engine itself acting on a deadline.

use serde::{Deserialize, Serialize};

use crate::taxonomy::UnknownCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Customer,
    RetailerStaff,
    Mediator,
    Admin,
    System,
}

impl Role {
    pub const PEOPLE: [Role; 4] = [
        Role::Customer,
        Role::RetailerStaff,
        Role::Mediator,
        Role::Admin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::RetailerStaff => "retailer_staff",
            Role::Mediator => "mediator",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }

    pub fn parse(code: &str) -> Result<Role, UnknownCode> {
        Role::PEOPLE
            .into_iter()
            .chain([Role::System])
            .find(|r| r.code() == code)
            .ok_or_else(|| UnknownCode {
                kind: "role",
                code: code.to_owned(),
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The one who sends an event: a signed-in person, or the engine itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `None` only for the system.
    pub id: Option<String>,
    pub role: Role,
    /// The retailer a retailer-staff member works for.
    pub retailer_id: Option<String>,
}

impl Actor {
    pub fn customer(id: impl Into<String>) -> Actor {
        Actor {
            id: Some(id.into()),
            role: Role::Customer,
            retailer_id: None,
        }
    }

    pub fn retailer_staff(id: impl Into<String>, retailer_id: impl Into<String>) -> Actor {
        Actor {
            id: Some(id.into()),
            role: Role::RetailerStaff,
            retailer_id: Some(retailer_id.into()),
        }
    }

    pub fn mediator(id: impl Into<String>) -> Actor {
        Actor {
            id: Some(id.into()),
            role: Role::Mediator,
            retailer_id: None,
        }
    }

    pub fn admin(id: impl Into<String>) -> Actor {
        Actor {
            id: Some(id.into()),
            role: Role::Admin,
            retailer_id: None,
        }
    }

    pub fn system() -> Actor {
        Actor {
            id: None,
            role: Role::System,
            retailer_id: None,
        }
    }

    pub fn is(&self, user_id: &str) -> bool {
        self.id.as_deref() == Some(user_id)
    }
}
