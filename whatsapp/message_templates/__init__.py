"""WhatsApp message templates as plain data: local rule checks before submission, and rendering for sends."""
