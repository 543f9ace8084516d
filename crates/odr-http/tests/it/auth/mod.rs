mod password;
mod token;
