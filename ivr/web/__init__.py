"""The web: Twilio's webhooks (views), their signatures, TwiML, trusted proxies, masked logs."""
