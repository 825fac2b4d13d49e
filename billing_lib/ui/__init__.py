"""What the analyst sees: notebook views, widgets, the Voila app, the HTML reports."""
