"""Campaigns: campaigns, variants and recipients, launch checks and the audience snapshot, the batch
engine (engine/) that feeds the send path, and one writer of a campaign's status (campaigns.status).
Prices come from the layer above through campaigns.costing, which billing fills."""
