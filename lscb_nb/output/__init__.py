"""The output layer: preparing phases in order, the batch of reports, and the
project's status. Imports every layer below; nothing below imports it."""
