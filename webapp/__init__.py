"""The managers' cockpit: a Telegram Mini App (pages and a JSON API) over the same services and
checks as the chat. ``webapp.app.cockpit_asgi`` builds it; bot/ serves it."""
