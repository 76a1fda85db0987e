//! Unified social credit codes (GB 32100): any text is checked without panic;
//! what is accepted is exactly `make` of its first 17 characters.
#![no_main]

use laoxiao_model::credit_code;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = credit_code::org_code_warning(&s);
    let _ = credit_code::check_char(&s);
    if credit_code::validate(&s).is_ok() {
        let first17: String = s.chars().take(17).collect();
        assert_eq!(credit_code::make(&first17).as_deref(), Some(&*s));
    }
});
