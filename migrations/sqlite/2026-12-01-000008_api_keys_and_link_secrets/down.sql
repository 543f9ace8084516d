DROP TABLE link_secrets;
DROP TABLE api_keys;
