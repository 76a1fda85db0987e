//! The codes of a childcare institution's monthly bills (托育费账单): the
//! institution's price list beside the class's monthly fee (收费标准), the
//! lines of a bill, how a family paid and where a bill stands.

crate::code_enum! {
    /// An item of an institution's price list (收费项目). The full-day fee is
    /// the class's own monthly fee (`childcare_class.monthly_fee_fen`); these
    /// price the other care types and the meal refund.
    pub enum PriceItem {
        HalfDay = ("half_day", "半日托（元/月）", "Half day (yuan a month)"),
        Hourly = ("hourly", "计时托（元/小时）", "Hourly (yuan an hour)"),
        Temporary = ("temporary", "临时托（元/天）", "Temporary (yuan a day)"),
        MealRefund = ("meal_refund", "缺勤伙食费退费（元/天）", "Meal refund (yuan an absent day)"),
    }
}

crate::code_enum! {
    /// A line of a bill (账单明细).
    pub enum BillLineKind {
        MonthlyFee = ("monthly_fee", "月保育费", "Monthly fee"),
        Hours = ("hours", "计时托费", "Hourly care"),
        Days = ("days", "临时托费", "Temporary care"),
        MealRefund = ("meal_refund", "缺勤伙食费退费", "Meal refund for absent days"),
    }
}

crate::code_enum! {
    /// Where a bill stands (账单状态).
    pub enum BillStatus {
        Open = ("open", "待缴费", "Open"),
        PartlyPaid = ("partly_paid", "部分缴费", "Partly paid"),
        Paid = ("paid", "已缴清", "Paid"),
    }
}

crate::code_enum! {
    /// How a family paid (缴费方式).
    pub enum PaymentMethod {
        Cash = ("cash", "现金", "Cash"),
        BankTransfer = ("bank_transfer", "银行转账", "Bank transfer"),
        WechatPay = ("wechat_pay", "微信支付", "WeChat Pay"),
        Alipay = ("alipay", "支付宝", "Alipay"),
        Other = ("other", "其他", "Other"),
    }
}
