"""Telegram: the notifier that delivers reminders, and the chat bot where Home Affairs asks who is
overdue and unit heads answer their own reminders; one Bot object and one HTML paging for both."""
