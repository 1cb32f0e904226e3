"""The developer portal: sign up, log in, the dashboard and API key management."""
