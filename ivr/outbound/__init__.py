"""What is sent out: texts through Twilio's REST API, and hazard alerts to the operator."""
