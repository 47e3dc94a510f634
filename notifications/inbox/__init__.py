"""The inbox (contract section 9): server-rendered pages where people answer their notifications.

The pages answer through the same selectors and service as `POST /api/v1/client/respond`; they
only turn a form's strings into the answer's JSON and say the outcome in words.
"""
