//! Parents in the loop over HTTP: a family's notifications (通知), the
//! messages between a family and its child's class (家园沟通), class notices
//! (班级通知), the delivery health page's figures, and the delivery worker
//! that `laoxiao serve` runs. The rules are the store's
//! (`laoxiao_store::notify`, `laoxiao_store::childcare_messages`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use laoxiao_store::Store;
use laoxiao_store::childcare_messages::{self as cm, Side, Thread};
use laoxiao_store::notify::{self, Channel, ChannelError, Outgoing, Receipt, Template};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::console::i18n::{Catalogues, Lang};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

/// A notification's text in a language, from the console's catalogue
/// (`notice.<template>`), its parameters filled in.
pub fn notice_text(
    cat: &Catalogues,
    lang: Lang,
    t: Template,
    params: &BTreeMap<String, String>,
) -> String {
    let args: Vec<(&str, String)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    cat.fill(lang, &format!("notice.{}", t.code()), &args)
}

/// The local stand-in channel (本地投递): writes the text as an SMS would
/// carry it into `notification_delivery`. The default until an SMS or
/// WeChat adapter is connected (docs/notifications.md).
pub struct LocalChannel {
    pub store: Store,
    pub cat: Arc<Catalogues>,
}

impl Channel for LocalChannel {
    fn name(&self) -> &'static str {
        "local"
    }

    fn send(&self, m: &Outgoing) -> Result<Receipt, ChannelError> {
        let text = notice_text(&self.cat, Lang::Zh, m.template, &m.params);
        let mut c = self
            .store
            .conn()
            .map_err(|e| ChannelError::Retryable(e.to_string()))?;
        notify::record_delivery(&mut c, m, "local", &text, Utc::now())
            .map(Receipt)
            .map_err(|e| ChannelError::Retryable(e.to_string()))
    }
}

/// Delivers due notifications every `every`, and once an hour tells the
/// families of bills gone overdue. Runs for the server's life.
pub async fn delivery_loop(state: AppState, every: std::time::Duration) {
    let channel = Arc::new(LocalChannel {
        store: state.store.clone(),
        cat: state.catalogues.clone(),
    });
    let mut tick = tokio::time::interval(every);
    let mut last_overdue: Option<chrono::NaiveDate> = None;
    let mut last_overdue_at = std::time::Instant::now();
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let ch = channel.clone();
        let today = chrono::Local::now().date_naive();
        let overdue = last_overdue != Some(today)
            || last_overdue_at.elapsed() > std::time::Duration::from_secs(3600);
        let r = state
            .db_tasks
            .run(move || {
                let now = Utc::now();
                let mut told = 0;
                if overdue {
                    let mut c = store.conn()?;
                    told = notify::bills_overdue(&mut c, today, now)?;
                }
                let d = notify::deliver_due(&store, ch.as_ref(), now, notify::MAX_BATCH)?;
                Ok::<_, laoxiao_store::StoreError>((told, d))
            })
            .await;
        match r {
            Ok(Ok((told, d))) => {
                if overdue {
                    last_overdue = Some(today);
                    last_overdue_at = std::time::Instant::now();
                }
                if told > 0 || d.sent > 0 || d.failed > 0 || d.retried > 0 {
                    tracing::info!(
                        overdue_notices = told,
                        sent = d.sent,
                        retried = d.retried,
                        failed = d.failed,
                        "notifications delivered"
                    );
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "notification delivery failed"),
            Err(e) => tracing::warn!(error = %e, "notification delivery task failed"),
        }
    }
}

// ------------------------------------------------------------ views

/// A notification to the family (通知).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// `offer`, `handover_refused`, `incident`, `daily_report`, `bill_issued`,
    /// `bill_overdue`, `class_notice`, `class_reply`.
    pub template: String,
    /// The text in Chinese.
    pub text: String,
    pub params: BTreeMap<String, String>,
    /// The console page to open.
    pub link: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// The family's notifications, newest first, and how many are unread.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub unread: i64,
    pub items: Vec<NotificationView>,
}

query_params! {
    /// Which notifications.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct NotificationParams {
        /// Only those not yet read.
        pub unread: Option<bool>,
        /// At most this many (1 to 200; 50 when absent).
        #[param(minimum = 1, maximum = 200)]
        pub limit: Option<i64>,
    }
}

/// Which notifications to mark read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadBody {
    /// The ids; all of yours when absent.
    #[schema(max_items = 200)]
    pub ids: Option<Vec<String>>,
}

/// How many were marked.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedView {
    pub marked: u64,
}

/// A message to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// 1 to 1,000 characters.
    #[schema(min_length = 1, max_length = 1000)]
    pub body: String,
}

/// A message in a child's thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadMessageView {
    pub id: String,
    /// `family` or `institution`.
    pub side: String,
    /// A notice to the whole class (班级通知).
    pub notice: bool,
    pub body: String,
    pub created_at: String,
    /// When the other side read it.
    pub read_at: Option<String>,
}

/// A child's thread with the class (家园沟通).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageThreadView {
    pub enrolment_id: String,
    pub infant_id: String,
    /// In full for the family, masked for the institution.
    pub infant_name: String,
    pub facility_id: String,
    pub facility_name: String,
    pub class_id: Option<String>,
    pub messages: Vec<ThreadMessageView>,
}

impl From<Thread> for MessageThreadView {
    fn from(t: Thread) -> Self {
        MessageThreadView {
            enrolment_id: t.enrolment_id,
            infant_id: t.infant_id,
            infant_name: t.infant_name,
            facility_id: t.facility_id,
            facility_name: t.facility_name,
            class_id: t.class_id,
            messages: t
                .messages
                .into_iter()
                .map(|m| ThreadMessageView {
                    id: m.id,
                    side: match m.side {
                        Side::Family => "family",
                        Side::Institution => "institution",
                    }
                    .into(),
                    notice: m.notice,
                    body: m.body,
                    created_at: m.created_at,
                    read_at: m.read_at,
                })
                .collect(),
        }
    }
}

/// A line of the institution's threads.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadLineView {
    pub enrolment_id: String,
    pub infant_name: String,
    pub class_id: Option<String>,
    pub last_at: String,
    pub unread: i64,
}

/// The institution's threads, unread first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadLineList {
    pub items: Vec<ThreadLineView>,
}

/// What a class notice reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassNoticeSentView {
    pub id: String,
    pub class_id: String,
    /// Children enrolled in the class today.
    pub children: i64,
    /// Family accounts notified.
    pub notified: u64,
}

/// A class notice the institution sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassNoticeView {
    pub id: String,
    pub class_id: String,
    pub body: String,
    pub created_at: String,
}

/// The institution's class notices, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassNoticeList {
    pub items: Vec<ClassNoticeView>,
}

/// Notifications by template and delivery status.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryCountView {
    pub template: String,
    /// `pending`, `sent`, `failed`.
    pub status: String,
    pub count: i64,
}

/// A notification the worker gave up on (no parameters: nothing personal).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryFailureView {
    pub id: String,
    pub template: String,
    pub attempts: i64,
    pub channel: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
}

/// Delivery health (通知投递).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryHealthView {
    pub counts: Vec<DeliveryCountView>,
    pub failures: Vec<DeliveryFailureView>,
    pub oldest_pending: Option<String>,
}

// ------------------------------------------------------------ family

/// Your notifications, newest first.
#[utoipa::path(
    get,
    path = "/api/family/notifications",
    operation_id = "list_family_notifications",
    tag = "family",
    params(NotificationParams),
    responses(
        (status = 200, description = "Your notifications", body = NotificationList),
        (status = 403, description = "Not a family account", body = ErrorBody),
        (status = 422, description = "A limit outside 1 to 200", body = ErrorBody),
    )
)]
pub async fn family_notifications(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<NotificationParams>,
) -> Result<Json<NotificationList>, ApiError> {
    let scope = auth.scope()?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=notify::MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(vec![laoxiao_model::FieldError::new(
            "limit",
            format!("1 to {}", notify::MAX_PAGE),
        )]));
    }
    let unread = p.unread.unwrap_or(false);
    let inbox = blocking(&state, move |c, _| {
        Ok(notify::inbox(c, &scope, unread, limit)?)
    })
    .await?;
    let cat = state.catalogues.clone();
    Ok(Json(NotificationList {
        unread: inbox.unread,
        items: inbox
            .items
            .into_iter()
            .map(|n| NotificationView {
                id: n.id,
                template: n.template.code().into(),
                text: notice_text(&cat, Lang::Zh, n.template, &n.params),
                params: n.params,
                link: n.link,
                created_at: n.created_at,
                read_at: n.read_at,
            })
            .collect(),
    }))
}

/// Marks your notifications read (the ones named, or all).
#[utoipa::path(
    post,
    path = "/api/family/notifications/read",
    operation_id = "mark_family_notifications_read",
    tag = "family",
    request_body = MarkReadBody,
    responses(
        (status = 200, description = "How many were marked", body = MarkedView),
        (status = 422, description = "Too many ids or a malformed one", body = ErrorBody),
    )
)]
pub async fn mark_read(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<MarkReadBody>,
) -> Result<Json<MarkedView>, ApiError> {
    let scope = auth.scope()?;
    let marked = blocking(&state, move |c, _| {
        Ok(notify::mark_read(c, &scope, b.ids.as_deref(), Utc::now())?)
    })
    .await?;
    Ok(Json(MarkedView { marked }))
}

/// Your child's thread with the class, with the class's notices.
#[utoipa::path(
    get,
    path = "/api/family/children/{id}/messages",
    operation_id = "get_family_class_thread",
    tag = "family",
    params(("id" = String, Path, description = "The child's person id")),
    responses(
        (status = 200, description = "The thread", body = MessageThreadView),
        (status = 404, description = "Not a child linked to your account", body = ErrorBody),
        (status = 409, description = "The child is not enrolled today", body = ErrorBody),
    )
)]
pub async fn family_thread(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageThreadView>, ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, _| {
        Ok(cm::family_thread(c, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(t.into()))
}

/// Writes to your child's class.
#[utoipa::path(
    post,
    path = "/api/family/children/{id}/messages",
    operation_id = "post_family_class_message",
    tag = "family",
    params(("id" = String, Path, description = "The child's person id")),
    request_body = MessageBody,
    responses(
        (status = 201, description = "Sent; the thread", body = MessageThreadView),
        (status = 404, description = "Not a child linked to your account", body = ErrorBody),
        (status = 409, description = "The child is not enrolled today", body = ErrorBody),
        (status = 422, description = "An empty or too long message", body = ErrorBody),
    )
)]
pub async fn family_post(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<MessageThreadView>), ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, _| {
        Ok(cm::family_post(c, &scope, &id, &b.body, Utc::now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

// ------------------------------------------------------------ institution

/// The institution's threads with families, unread first.
#[utoipa::path(
    get,
    path = "/api/childcare/messages",
    operation_id = "list_childcare_threads",
    tag = "childcare",
    responses(
        (status = 200, description = "The threads", body = ThreadLineList),
        (status = 403, description = "Not the institution's own staff", body = ErrorBody),
    )
)]
pub async fn threads(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ThreadLineList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(cm::threads(c, &scope)?)).await?;
    Ok(Json(ThreadLineList {
        items: items
            .into_iter()
            .map(|l| ThreadLineView {
                enrolment_id: l.enrolment_id,
                infant_name: l.infant_name,
                class_id: l.class_id,
                last_at: l.last_at,
                unread: l.unread,
            })
            .collect(),
    }))
}

/// A child's thread (the family's messages count as read).
#[utoipa::path(
    get,
    path = "/api/childcare/messages/{id}",
    operation_id = "get_childcare_thread",
    tag = "childcare",
    params(("id" = String, Path, description = "The enrolment id")),
    responses(
        (status = 200, description = "The thread", body = MessageThreadView),
        (status = 403, description = "Not the institution's own staff", body = ErrorBody),
        (status = 404, description = "No such enrolment in your area", body = ErrorBody),
    )
)]
pub async fn thread(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageThreadView>, ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, _| {
        Ok(cm::staff_thread(c, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(t.into()))
}

/// Answers in a child's thread; the family is notified.
#[utoipa::path(
    post,
    path = "/api/childcare/messages/{id}",
    operation_id = "reply_childcare_thread",
    tag = "childcare",
    params(("id" = String, Path, description = "The enrolment id")),
    request_body = MessageBody,
    responses(
        (status = 201, description = "Sent; the thread", body = MessageThreadView),
        (status = 403, description = "Not the institution's own staff", body = ErrorBody),
        (status = 404, description = "No such enrolment in your area", body = ErrorBody),
        (status = 422, description = "An empty or too long message", body = ErrorBody),
    )
)]
pub async fn reply(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<MessageThreadView>), ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, _| {
        Ok(cm::reply(c, &scope, &id, &b.body, Utc::now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// A notice to a whole class (班级通知): every family of the class is notified.
#[utoipa::path(
    post,
    path = "/api/childcare/classes/{id}/notices",
    operation_id = "send_childcare_class_notice",
    tag = "childcare",
    params(("id" = String, Path, description = "The class id")),
    request_body = MessageBody,
    responses(
        (status = 201, description = "Sent", body = ClassNoticeSentView),
        (status = 403, description = "Not the institution's own staff", body = ErrorBody),
        (status = 404, description = "No such class in your area", body = ErrorBody),
        (status = 422, description = "An empty or too long notice", body = ErrorBody),
    )
)]
pub async fn class_notice(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<ClassNoticeSentView>), ApiError> {
    let scope = auth.scope()?;
    let n = blocking(&state, move |c, _| {
        Ok(cm::class_notice(c, &scope, &id, &b.body, Utc::now())?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ClassNoticeSentView {
            id: n.id,
            class_id: n.class_id,
            children: n.children,
            notified: n.notified,
        }),
    ))
}

/// The institution's class notices, newest first (the last 200).
#[utoipa::path(
    get,
    path = "/api/childcare/notices",
    operation_id = "list_childcare_class_notices",
    tag = "childcare",
    responses(
        (status = 200, description = "The notices", body = ClassNoticeList),
        (status = 403, description = "Not the institution's own staff", body = ErrorBody),
    )
)]
pub async fn notices(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ClassNoticeList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(cm::notices(c, &scope, cm::MAX_THREAD)?)
    })
    .await?;
    Ok(Json(ClassNoticeList {
        items: items
            .into_iter()
            .map(|n| ClassNoticeView {
                id: n.id,
                class_id: n.class_id,
                body: n.body,
                created_at: n.created_at,
            })
            .collect(),
    }))
}

// ------------------------------------------------------------ delivery health

/// Delivery health (通知投递): notifications by template and status, the
/// latest failures, the oldest still pending. City administrators.
#[utoipa::path(
    get,
    path = "/api/notifications/health",
    operation_id = "get_notification_health",
    tag = "accounts",
    responses(
        (status = 200, description = "Delivery health", body = DeliveryHealthView),
        (status = 403, description = "Not a city administrator", body = ErrorBody),
    )
)]
pub async fn health(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<DeliveryHealthView>, ApiError> {
    let scope = auth.scope()?;
    let h = blocking(&state, move |c, _| Ok(notify::health(c, &scope)?)).await?;
    Ok(Json(DeliveryHealthView {
        counts: h
            .counts
            .into_iter()
            .map(|c| DeliveryCountView {
                template: c.template.code().into(),
                status: c.status.code().into(),
                count: c.count,
            })
            .collect(),
        failures: h
            .failures
            .into_iter()
            .map(|f| DeliveryFailureView {
                id: f.id,
                template: f.template.code().into(),
                attempts: f.attempts,
                channel: f.channel,
                last_error: f.last_error,
                created_at: f.created_at,
            })
            .collect(),
        oldest_pending: h.oldest_pending,
    }))
}
