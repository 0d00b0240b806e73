"""Saved ticket lists (views): filters and a sort, an agent's own or shared by admins."""
