"""Navigation links per role, used by the base template."""

NAV = {
    "patient": [("patients.dashboard", "My dashboard")],
    "doctor": [("doctors.dashboard", "Dashboard")],
    "admin": [("admin.dashboard", "Admin")],
}


def nav_links(user) -> list[tuple[str, str]]:
    return NAV.get(user.role, [])
