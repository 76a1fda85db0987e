//! laoxiao-web
