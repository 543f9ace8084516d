//! The people of a run and the mixed workload: each client is a customer
//! who files and walks whole journeys with a retailer's staff, reading the
//! complaint, its log and both sides' lists on the way.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::Client;
use crate::server::{ADMIN_EMAIL, PASSWORD};
use crate::stats::{Kind, Recorder};
use crate::Failure;

pub struct Shop {
    pub id: String,
    pub staff_token: String,
}

pub struct People {
    pub admin_token: String,
    pub shops: Vec<Shop>,
    pub customers: Vec<String>,
}

fn need(r: std::io::Result<crate::http::Response>, what: &str) -> Result<Value, Failure> {
    let r = r?;
    if !r.ok() {
        return Err(format!(
            "{what}: HTTP {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        )
        .into());
    }
    Ok(r.json())
}

pub async fn login(addr: &str, email: &str) -> Result<String, Failure> {
    let mut c = Client::new(addr);
    let body = json!({"email": email, "password": PASSWORD});
    let v = need(c.post("/api/v1/auth/login", None, &body).await, "login")?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "login answered no access_token".into())
}

/// An admin (from the settings), `shops` retailers with one staff member
/// each, and one customer per client, all signed in.
pub async fn setup(addr: &str, shops: usize, customers: usize) -> Result<People, Failure> {
    let admin_token = login(addr, ADMIN_EMAIL).await?;
    let mut c = Client::new(addr);
    let mut made = Vec::new();
    for i in 0..shops {
        let shop = need(
            c.post(
                "/api/v1/retailers",
                Some(&admin_token),
                &json!({
                    "name": format!("Bench shop {i}"), "support_email": format!("support{i}@shop.bench"),
                    "locale": "en", "currency": "EUR", "time_zone": "UTC"
                }),
            )
            .await,
            "create retailer",
        )?;
        let id = shop["id"].as_str().ok_or("retailer without id")?.to_owned();
        let email = format!("staff{i}@shop.bench");
        need(
            c.post(
                &format!("/api/v1/retailers/{id}/staff"),
                Some(&admin_token),
                &json!({"email": email, "password": PASSWORD, "display_name": format!("Staff {i}")}),
            )
            .await,
            "create staff",
        )?;
        made.push((id, email));
    }
    // Four at a time: each sign-up and sign-in hashes a password (argon2,
    // ~19 MiB each), and the allocator keeps what many at once took.
    let mut customer_tokens = Vec::new();
    for batch in (0..customers).collect::<Vec<_>>().chunks(4) {
        let mut tasks = Vec::new();
        for &i in batch {
            let addr = addr.to_owned();
            tasks.push(tokio::spawn(async move {
                let mut c = Client::new(&addr);
                let email = format!("customer{i}@bench.test");
                need(
                    c.post(
                        "/api/v1/auth/register",
                        None,
                        &json!({"email": email, "password": PASSWORD, "display_name": format!("Customer {i}")}),
                    )
                    .await,
                    "register",
                )?;
                login(&addr, &email).await
            }));
        }
        for t in tasks {
            customer_tokens.push(t.await.map_err(|e| e.to_string())??);
        }
    }
    let mut shops_out = Vec::new();
    for (id, email) in made {
        shops_out.push(Shop {
            id,
            staff_token: login(addr, &email).await?,
        });
    }
    Ok(People {
        admin_token,
        shops: shops_out,
        customers: customer_tokens,
    })
}

struct Driver {
    client: Client,
    rec: Recorder,
    end: Instant,
}

impl Driver {
    /// One request, timed; `None` when it failed or the run is over.
    async fn call(
        &mut self,
        kind: Kind,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Option<Value> {
        if Instant::now() >= self.end {
            return None;
        }
        let t0 = Instant::now();
        let r = self
            .client
            .request(method, path, Some(token), body.as_ref())
            .await;
        let ok = matches!(&r, Ok(r) if r.ok());
        self.rec.record(kind, t0.elapsed(), ok);
        match r {
            Ok(r) if r.ok() => Some(r.json()),
            Ok(r) => {
                self.rec.note_error(format!(
                    "{method} {} -> {} {}",
                    path.split('?').next().unwrap_or(path),
                    r.status,
                    String::from_utf8_lossy(&r.body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                ));
                None
            }
            Err(e) => {
                self.rec.note_error(format!("{method} {path}: {e}"));
                None
            }
        }
    }
}

fn filing(retailer_id: &str, n: u64) -> Value {
    json!({
        "retailer_id": retailer_id,
        "order_reference": format!("B-{n}"),
        "category": "damaged",
        "desired_remedy": "partial_refund",
        "claimed_amount": {"amount_minor": 2500, "currency": "EUR"},
        "description": "The teapot arrived with a cracked lid.",
        "items": [{"sku": "TP-1", "name": "Teapot", "quantity": 1}]
    })
}

/// One client's loop: file, read, acknowledge, list, offer, read, accept,
/// list, fulfil, read the log; again until `end`.
async fn client_loop(
    addr: String,
    customer: String,
    shop: (String, String),
    end: Instant,
) -> Recorder {
    let (retailer_id, staff) = shop;
    let mut d = Driver {
        client: Client::new(&addr),
        rec: Recorder::default(),
        end,
    };
    let mut n = 0u64;
    while Instant::now() < end {
        n += 1;
        let Some(filed) = d
            .call(
                Kind::Transition,
                "POST",
                "/api/v1/complaints",
                &customer,
                Some(filing(&retailer_id, n)),
            )
            .await
        else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Some(id) = filed["id"].as_str().map(str::to_owned) else {
            continue;
        };
        let c = format!("/api/v1/complaints/{id}");
        let staff_list = "/api/v1/complaints?sort=next_deadline&limit=20";
        let steps = async {
            d.call(Kind::Read, "GET", &c, &customer, None).await?;
            d.call(
                Kind::Transition,
                "POST",
                &format!("{c}/acknowledge"),
                &staff,
                Some(json!({})),
            )
            .await?;
            d.call(Kind::List, "GET", staff_list, &staff, None).await?;
            let offered = d
                .call(
                    Kind::Transition,
                    "POST",
                    &format!("{c}/offers"),
                    &staff,
                    Some(json!({"remedy": "full_refund", "amount": {"amount_minor": 2500, "currency": "EUR"}})),
                )
                .await?;
            let offer_id = offered["current_offer"]["id"].as_str()?.to_owned();
            d.call(Kind::Read, "GET", &c, &customer, None).await?;
            d.call(
                Kind::Transition,
                "POST",
                &format!("{c}/accept"),
                &customer,
                Some(json!({"offer_id": offer_id})),
            )
            .await?;
            d.call(
                Kind::List,
                "GET",
                "/api/v1/complaints?limit=20",
                &customer,
                None,
            )
            .await?;
            d.call(
                Kind::Transition,
                "POST",
                &format!("{c}/fulfil"),
                &staff,
                Some(json!({})),
            )
            .await?;
            d.call(Kind::Read, "GET", &format!("{c}/events"), &customer, None)
                .await?;
            d.rec.journeys += 1;
            Some(())
        };
        steps.await;
    }
    d.rec
}

/// Runs `clients` clients for `secs`; returns the merged record and the
/// wall time from the first request to the last answer.
pub async fn drive(addr: &str, people: &People, secs: f64) -> (Recorder, Duration) {
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for (i, customer) in people.customers.iter().enumerate() {
        let shop = &people.shops[i % people.shops.len()];
        tasks.push(tokio::spawn(client_loop(
            addr.to_owned(),
            customer.clone(),
            (shop.id.clone(), shop.staff_token.clone()),
            end,
        )));
    }
    let mut all = Recorder::default();
    for t in tasks {
        if let Ok(r) = t.await {
            all.merge(r);
        }
    }
    (all, start.elapsed())
}
