//! Who is looking at a dashboard page, for its header (name, sign-out) and for hiding the
//! controls the role may not use.
//!
//! The dashboard's router sets the viewer for the duration of one request ([`scope`]), and
//! [`super::Dashboard`] puts it into every page's template context as `viewer`. A task-local
//! rather than a parameter of each page method: every page, including ones added later,
//! shows who is signed in without each handler passing it along, and a page rendered outside
//! a sign-in (the login form, a refusal before it) simply has no viewer (`null`). Hiding a
//! control is only a courtesy: the router refuses the action itself (see `Role::allows`).

use crate::users::{Action, Principal};
use serde::Serialize;
use std::future::Future;

tokio::task_local! {
    static VIEWER: Viewer;
}

/// What the role may do, for the templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Can {
    /// Download the lead list.
    pub export: bool,
    /// Erase a person's leads.
    pub erase: bool,
    /// Send a delivery again.
    pub redeliver: bool,
    /// See the delivery log.
    pub deliveries: bool,
    /// Move a lead to another stage.
    pub change_stage: bool,
}

/// The signed-in user of a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Viewer {
    /// The user's name (`admin` for the shared token).
    pub name: String,
    /// `sales` or `admin`.
    pub role: &'static str,
    /// Signed in with the shared admin token rather than as a named user.
    pub admin_token: bool,
    /// What the role may do.
    pub can: Can,
}

impl Viewer {
    /// The viewer of a request made by `who`.
    pub fn of(who: &Principal) -> Viewer {
        Viewer {
            name: who.name().to_owned(),
            role: who.role().as_str(),
            admin_token: who.is_admin_token(),
            can: Can {
                export: who.allows(Action::ExportLeads),
                erase: who.allows(Action::EraseLeads),
                redeliver: who.allows(Action::Redeliver),
                deliveries: who.allows(Action::ListDeliveries),
                change_stage: who.allows(Action::ChangeStage),
            },
        }
    }
}

/// Runs `page` with `viewer` as the viewer of every page it renders.
pub async fn scope<F: Future>(viewer: Viewer, page: F) -> F::Output {
    VIEWER.scope(viewer, page).await
}

/// The viewer of the page being rendered, if the router set one.
pub fn current() -> Option<Viewer> {
    VIEWER.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::Role;

    #[tokio::test]
    async fn the_viewer_holds_inside_its_scope_only() {
        assert_eq!(current(), None);
        let sales = Viewer::of(&Principal::user("alice", Role::Sales, 1));
        assert!(!sales.can.export && !sales.can.redeliver && sales.can.change_stage);
        let seen = scope(sales.clone(), async { current() }).await;
        assert_eq!(seen, Some(sales));
        assert_eq!(current(), None);
        let admin = Viewer::of(&Principal::admin_token());
        assert!(admin.admin_token && admin.can.export && admin.can.erase);
    }
}
