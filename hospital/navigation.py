"""Navigation links per role, used by the base template."""

NAV = {
    "patient": [("patients.dashboard", "Home"), ("patients.book", "Book"), ("patients.doctors", "Doctors"),
                ("patients.appointments", "My appointments")],
    "doctor": [("doctors.dashboard", "Dashboard"), ("doctors.availability", "Availability")],
    "admin": [("admin.dashboard", "Admin"), ("admin.appointments", "Appointments")],
}


def nav_links(user) -> list[tuple[str, str]]:
    return NAV.get(user.role, [])
