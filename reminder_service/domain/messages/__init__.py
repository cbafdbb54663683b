"""What a reminder says (context) and how it reads (Jinja2 templates in ``message_templates``)."""
