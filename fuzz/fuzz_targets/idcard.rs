//! Citizen ID numbers (GB 11643): any text is checked without panic; what is
//! accepted has the right check character and a real birth date.
#![no_main]

use laoxiao_model::idcard;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = idcard::normalize(&s);
    let _ = laoxiao_model::person::mask_id_number(&s);
    let _ = idcard::check_char(&s);
    if let Ok(info) = idcard::parse(&s) {
        let first17: String = s.chars().take(17).collect();
        let check = idcard::check_char(&first17).expect("17 digits");
        assert_eq!(
            s.chars().nth(17).map(|c| c.to_ascii_uppercase()),
            Some(check)
        );
        let seq: u16 = first17[14..17].parse().expect("digits");
        assert_eq!(
            idcard::make(&info.address_code, info.birth_date, seq),
            s.to_ascii_uppercase()
        );
    }
});
