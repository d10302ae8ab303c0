"""Navigation links per role, used by the base template."""

NAV = {
    "patient": [("patients.dashboard", "Home"), ("patients.book", "Book"), ("patients.doctors", "Doctors"),
                ("patients.appointments", "My appointments"), ("chat.inbox", "Chats")],
    "doctor": [("doctors.dashboard", "Dashboard"), ("doctors.availability", "Availability"), ("chat.inbox", "Chats")],
    "admin": [("admin.dashboard", "Admin"), ("admin.appointments", "Appointments"), ("admin.notifications", "Emails"),
              ("admin.analytics_page", "Analytics")],
}


def nav_links(user) -> list[tuple[str, str]]:
    return NAV.get(user.role, [])
