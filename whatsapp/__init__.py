"""WhatsApp: the Graph API client (graph/) and its simulator (simulator/), connections (connections/:
accounts, numbers, tokens, Embedded Signup), message templates (message_templates/), webhook intake and
processing (webhooks/), and the one send path (sending/, with dispatch.py for one-off sends). The apps
above react to what it receives and sends through whatsapp.fanout; it never names them."""
