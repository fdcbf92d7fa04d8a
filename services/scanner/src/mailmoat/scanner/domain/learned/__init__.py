"""The learned primary detector's pieces: text features, the linear model, scan windows."""
