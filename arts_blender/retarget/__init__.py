"""Put ARTS motion on other rigs (issue 12): bone mapping (mapping.py, no bpy) first; baking comes next."""
