//! Leads on PostgreSQL: the write with its cross-instance dedupe, the listing and the row
//! mapping the other modules read leads with.

use super::super::metrics::CommitMetrics;
use super::super::*;
use super::{deliveries, unavailable};
use deadpool_postgres::Pool;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;

/// Serialises writers of the same dedupe keys across instances, until the transaction ends:
/// one lock per key, taken in the order of the array (a function scan of `unnest` yields the
/// elements in order). Every group passes its keys sorted, so two groups that share keys take
/// them in the same order and one waits for the other. (Two different keys whose hashes collide
/// could still cross; PostgreSQL then aborts one group as a deadlock, and its leads are written
/// again one by one.)
const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest($1::TEXT[]) AS k";

/// A group of leads in one statement, with the answers a look-up and insert per lead in arrival
/// order would give: a lead with an earlier one inside its window is that one's duplicate; of the
/// others, the first of each dedupe key is stored and its repeats are its duplicates. (A lead
/// whose window reaches an older lead that a repeat's later window no longer reaches is a
/// duplicate, and the repeat is stored: the same as one by one.) The look-ups read the snapshot
/// taken after the locks of the statement before were granted. Parameters 1–26 are arrays of
/// the leads' columns, 27 the window in milliseconds; one row back per lead, in order.
const STORE_LEADS_SQL: &str = "WITH input AS (
        SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[],
                $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::TEXT[], $15::TEXT[], $16::TEXT[], $17::TEXT[], $18::TEXT[], $19::TEXT[],
                $20::BIGINT[], $21::BOOLEAN[], $22::TEXT[], $23::TEXT[], $24::TEXT[], $25::TEXT[], $26::TEXT[])
            WITH ORDINALITY AS i (id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page,
                referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason,
                consent, dedupe_key, confirmation, form_version, ord)
    ), earlier AS (
        SELECT i.ord, e.id, e.qualified FROM input i CROSS JOIN LATERAL (
            SELECT id, qualified FROM leads l WHERE l.dedupe_key = i.dedupe_key AND l.received_ms >= i.received_ms - $27::BIGINT
            ORDER BY l.received_ms LIMIT 1) e
    ), firsts AS (
        SELECT DISTINCT ON (dedupe_key) * FROM input i WHERE NOT EXISTS (SELECT 1 FROM earlier e WHERE e.ord = i.ord)
        ORDER BY dedupe_key, ord
    ), stored AS (
        INSERT INTO leads (id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer,
                utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key,
                confirmation, form_version)
        SELECT id, received_at, received_ms, form, answers, email, experiment, variant, attribution_flag, visitor, page, referrer,
                utm_source, utm_medium, utm_campaign, utm_term, utm_content, user_agent, ip_hash, score, qualified, spam_reason, consent, dedupe_key,
                confirmation, form_version
        FROM firsts ORDER BY ord
        RETURNING id, qualified, dedupe_key
    )
    SELECT COALESCE(e.id, s.id), COALESCE(e.qualified, s.qualified), s.id IS DISTINCT FROM i.id
    FROM input i LEFT JOIN earlier e ON e.ord = i.ord LEFT JOIN stored s ON e.ord IS NULL AND s.dedupe_key = i.dedupe_key
    ORDER BY i.ord";

/// The exposure a submission implies (0 views), unless the visitor already has one.
const IMPLIED_EXPOSURE_SQL: &str = "INSERT INTO exposures (experiment, visitor, variant, first_ms, last_ms, views, page) VALUES ($1, $2, $3, $4, $4, 0, $5)
     ON CONFLICT (experiment, visitor) DO NOTHING";

/// Most leads written in one transaction.
const GROUP: usize = 256;

/// Group writers per store: while one group is written and committed, the next forms, so
/// PostgreSQL always has work and a lead waits for at most the commit before its own. More
/// writers make smaller groups: with 64 clients on two vCPUs, 8 writers stored a fifth fewer
/// leads per second than 2 and doubled the p99 (`docs/performance.md`).
pub(super) const WRITERS: usize = 2;

/// A lead waiting for its group's commit, and where its answer goes.
pub(super) struct Job {
    pub lead: NewLead,
    pub outbox: Option<Outbox>,
    pub reply: oneshot::Sender<StoreResult<LeadReceipt>>,
}

/// The leads' queue, shared by the [`WRITERS`]: each takes whatever is waiting as one group.
pub(super) type Queue = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>;

/// Writes queued leads in groups, one transaction each, and answers each lead after its
/// group committed. A group that fails is written again lead by lead, so one bad lead (or a
/// deadlock) fails alone. Ends when the store closes the queue, after writing what was sent.
pub(super) async fn lead_writer(pool: Pool, metrics: Arc<CommitMetrics>, queue: Queue) {
    let mut jobs = Vec::with_capacity(GROUP);
    loop {
        // The lock is held only while waiting: the next writer takes the next group.
        if queue.lock().await.recv_many(&mut jobs, GROUP).await == 0 {
            return;
        }
        let started = Instant::now();
        match write_group(&pool, &jobs).await {
            Ok(receipts) => {
                metrics.observe(started.elapsed().as_secs_f64(), jobs.len());
                for (job, receipt) in jobs.drain(..).zip(receipts) {
                    let _ = job.reply.send(Ok(receipt));
                }
            }
            Err(e) if jobs.len() == 1 => {
                let _ = jobs.remove(0).reply.send(Err(e));
            }
            Err(_) => {
                let alone = jobs.iter().map(|job| async {
                    let started = Instant::now();
                    let one = write_group(&pool, std::slice::from_ref(job)).await;
                    if one.is_ok() {
                        metrics.observe(started.elapsed().as_secs_f64(), 1);
                    }
                    one.map(|mut r| r.remove(0))
                });
                let answers = futures_util::future::join_all(alone).await;
                for (job, answer) in jobs.drain(..).zip(answers) {
                    let _ = job.reply.send(answer);
                }
            }
        }
    }
}

/// A lead's answer from its row of [`STORE_LEADS_SQL`]; a row that does not read as one is an
/// error of the group (written again lead by lead), never a panic of its writer.
fn receipt(row: &tokio_postgres::Row) -> StoreResult<LeadReceipt> {
    Ok(LeadReceipt {
        id: row.try_get(0).map_err(db_err)?,
        qualified: row.try_get(1).map_err(db_err)?,
        duplicate: row.try_get(2).map_err(db_err)?,
    })
}

/// A group's leads column by column, in [`STORE_LEADS_SQL`]'s parameter order: one array per
/// column, then the window in milliseconds.
fn columns<'a>(rows: &'a [Row<'a>]) -> Vec<Box<dyn ToSql + Sync + Send + 'a>> {
    fn text<'a>(
        rows: &'a [Row<'a>],
        f: impl Fn(&'a Row<'a>) -> Option<&'a str>,
    ) -> Box<dyn ToSql + Sync + Send + 'a> {
        Box::new(rows.iter().map(f).collect::<Vec<_>>())
    }
    vec![
        text(rows, |r| Some(&r.id)),
        text(rows, |r| Some(&r.received_at)),
        Box::new(rows.iter().map(|r| r.ms).collect::<Vec<_>>()),
        text(rows, |r| Some(&r.lead.form)),
        text(rows, |r| Some(&r.answers)),
        text(rows, |r| r.lead.email.as_deref()),
        text(rows, |r| r.lead.experiment.as_deref()),
        text(rows, |r| r.lead.variant.as_deref()),
        text(rows, |r| r.flag),
        text(rows, |r| r.lead.visitor.as_deref()),
        text(rows, |r| r.lead.page.as_deref()),
        text(rows, |r| r.lead.referrer.as_deref()),
        text(rows, |r| r.lead.utm.source.as_deref()),
        text(rows, |r| r.lead.utm.medium.as_deref()),
        text(rows, |r| r.lead.utm.campaign.as_deref()),
        text(rows, |r| r.lead.utm.term.as_deref()),
        text(rows, |r| r.lead.utm.content.as_deref()),
        text(rows, |r| r.lead.user_agent.as_deref()),
        text(rows, |r| r.lead.ip_hash.as_deref()),
        Box::new(rows.iter().map(|r| r.lead.score).collect::<Vec<_>>()),
        Box::new(rows.iter().map(|r| r.lead.qualified).collect::<Vec<_>>()),
        text(rows, |r| r.lead.spam_reason.as_deref()),
        text(rows, |r| r.lead.consent.as_deref()),
        text(rows, |r| Some(&r.lead.dedupe_key)),
        text(rows, |r| r.confirmation),
        text(rows, |r| r.lead.form_version.as_deref()),
        Box::new(DEDUPE_WINDOW_SECS * 1000),
    ]
}

/// A lead with its stored text formatted and its id chosen.
struct Row<'a> {
    lead: &'a NewLead,
    id: String,
    received_at: String,
    ms: i64,
    answers: String,
    flag: Option<&'static str>,
    confirmation: Option<&'static str>,
    deliveries: &'a [NewDelivery],
}

impl<'a> Row<'a> {
    fn new(job: &'a Job) -> StoreResult<Row<'a>> {
        let lead = &job.lead;
        let ms = lead.received_at.timestamp_millis();
        let (id, deliveries) = match &job.outbox {
            Some(o) => (o.lead_id.clone(), o.deliveries.as_slice()),
            None => (uuid::Uuid::now_v7().to_string(), &[][..]),
        };
        Ok(Row {
            lead,
            id,
            received_at: lead.received_at.to_rfc3339(),
            ms,
            // The map serialises as the object it is; no copy of it is needed.
            answers: serde_json::to_string(&lead.answers)
                .map_err(|e| StoreError::Database(e.to_string()))?,
            flag: lead.attribution_flag.map(AttributionFlag::as_str),
            confirmation: lead.confirmation.map(Confirmation::as_str),
            deliveries,
        })
    }
}

/// Writes a group in one transaction: the dedupe keys' locks, then the leads in one statement
/// (a repeat inside the group is a duplicate of the first), then what each new lead brings
/// along, then the commit. Every step's statements are pipelined, so a group of any size costs
/// the round trips of one lead.
async fn write_group(pool: &Pool, jobs: &[Job]) -> StoreResult<Vec<LeadReceipt>> {
    let rows = jobs.iter().map(Row::new).collect::<StoreResult<Vec<_>>>()?;
    let mut client = pool.get().await.map_err(unavailable)?;
    let tx = client.transaction().await.map_err(db_err)?;
    // Prepared once per pooled connection: a statement passed as text is parsed and
    // described in a round trip of its own before every execution.
    let lock = tx.prepare_cached(LOCK_SQL).await.map_err(db_err)?;
    let store_leads = tx.prepare_cached(STORE_LEADS_SQL).await.map_err(db_err)?;
    let mut keys: Vec<&str> = jobs.iter().map(|j| j.lead.dedupe_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    // tokio-postgres sends pipelined requests in the order they are first polled, and
    // PostgreSQL runs them in that order: the locks first, then the leads.
    let key_list: [&(dyn ToSql + Sync); 1] = [&keys];
    let columns = columns(&rows);
    let params: Vec<&(dyn ToSql + Sync)> = columns.iter().map(|c| &**c as _).collect();
    let (locked, stored) = tokio::join!(
        tx.execute(&lock, &key_list),
        tx.query(&store_leads, &params)
    );
    locked.map_err(db_err)?;
    let receipts = stored
        .map_err(db_err)?
        .iter()
        .map(receipt)
        .collect::<StoreResult<Vec<_>>>()?;
    if receipts.len() != jobs.len() {
        return Err(StoreError::Database(format!(
            "{} answers for {} leads",
            receipts.len(),
            jobs.len()
        )));
    }
    let t = &tx;
    let implied = tx
        .prepare_cached(IMPLIED_EXPOSURE_SQL)
        .await
        .map_err(db_err)?;
    let implied = &implied;
    let extras = rows
        .iter()
        .zip(&receipts)
        .filter(|(_, r)| !r.duplicate)
        .map(|(row, _)| async move {
            if let Some((exp, var, vis)) = row.lead.implied_exposure() {
                t.execute(implied, &[&exp, &vis, &var, &row.ms, &row.lead.page])
                    .await
                    .map_err(db_err)?;
            }
            deliveries::insert(t, &row.id, row.ms, row.deliveries).await
        });
    futures_util::future::try_join_all(extras).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(receipts)
}

fn lead_filter(q: &LeadQuery) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let (w, params) = q.where_clause('$');
    let values = params
        .into_iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                FilterValue::Text(t) => Box::new(t),
                FilterValue::Flag(f) => Box::new(f),
            }
        })
        .collect();
    (w, values)
}

pub(super) fn lead_from_row(r: &tokio_postgres::Row) -> Lead {
    let received: String = r.get("received_at");
    let answers: String = r.get("answers");
    let flag: Option<String> = r.get("attribution_flag");
    Lead {
        id: r.get("id"),
        lead: NewLead {
            received_at: DateTime::parse_from_rfc3339(&received)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            form: r.get("form"),
            answers: serde_json::from_str(&answers).unwrap_or_default(),
            email: r.get("email"),
            experiment: r.get("experiment"),
            variant: r.get("variant"),
            attribution_flag: flag.as_deref().and_then(AttributionFlag::parse),
            visitor: r.get("visitor"),
            page: r.get("page"),
            referrer: r.get("referrer"),
            utm: Utm {
                source: r.get("utm_source"),
                medium: r.get("utm_medium"),
                campaign: r.get("utm_campaign"),
                term: r.get("utm_term"),
                content: r.get("utm_content"),
            },
            user_agent: r.get("user_agent"),
            ip_hash: r.get("ip_hash"),
            score: r.get("score"),
            qualified: r.get("qualified"),
            spam_reason: r.get("spam_reason"),
            consent: r.get("consent"),
            dedupe_key: r.get("dedupe_key"),
            confirmation: r
                .get::<_, Option<String>>("confirmation")
                .as_deref()
                .and_then(Confirmation::parse),
            form_version: r.get("form_version"),
        },
        confirmed_at: crate::store::deliveries::from_ms(r.get("confirmed_ms")),
        stage: super::lifecycle::state_from_row(r),
    }
}

/// Parameters as the query functions take them.
fn refs(params: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// A page of the leads `query` selects, newest first.
pub(super) async fn list(
    client: &tokio_postgres::Client,
    query: &LeadQuery,
) -> StoreResult<Vec<Lead>> {
    let (w, mut params) = lead_filter(query);
    let limit: Option<i64> = (query.limit > 0).then_some(i64::from(query.limit));
    params.push(Box::new(limit));
    params.push(Box::new(i64::from(query.offset)));
    let n = params.len();
    let sql = format!(
        "SELECT * FROM leads {w} ORDER BY received_ms DESC, id DESC LIMIT ${} OFFSET ${n}",
        n - 1
    );
    let rows = client.query(&sql, &refs(&params)).await.map_err(db_err)?;
    Ok(rows.iter().map(lead_from_row).collect())
}

/// How many leads `query` selects, all pages.
pub(super) async fn count(client: &tokio_postgres::Client, query: &LeadQuery) -> StoreResult<u64> {
    let (w, params) = lead_filter(query);
    let row = client
        .query_one(&format!("SELECT COUNT(*) FROM leads {w}"), &refs(&params))
        .await
        .map_err(db_err)?;
    Ok(row.get::<_, i64>(0) as u64)
}
