//! Lets a hash join's dynamic filter skip rows while the probe side's Parquet is decoded.
//!
//! DataFusion gives every hash join a dynamic filter on its probe side's join keys (the
//! build side's key bounds and values), pushed into the probe side's scan once the plan is
//! final. Without Parquet filter pushdown the scan uses it only to prune row groups by
//! their statistics, which cannot help when the key column is not sorted: TPC-H Q17 then
//! aggregates all 6 M rows of `lineitem` by part to join 0.1% of them. Turning pushdown on
//! for the whole session (`datafusion.execution.parquet.pushdown_filters`) also moves
//! every static predicate into the decoder, which is slower for most queries (Q15: 6.5×
//! DuckDB instead of 2.5×). This rule turns it on only for the scans that have no static
//! predicate of their own, so what reaches their decoder is the join's key filter alone,
//! and only where their rows are aggregated before they reach the join (see [`Path`]).

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::filter_pushdown::FilterPushdown;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;

/// The rule; it must run before DataFusion's last filter pushdown, which hands the joins'
/// dynamic filters to the scans (see [`with_join_key_filters`]).
#[derive(Debug, Default)]
pub(crate) struct JoinKeyRowFilter;

impl PhysicalOptimizerRule for JoinKeyRowFilter {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if config.execution.parquet.pushdown_filters
            || !config.optimizer.enable_join_dynamic_filter_pushdown
        {
            // Either every scan already filters rows, or no join will hand out a filter.
            return Ok(plan);
        }
        Ok(rewrite(&plan, Path::NoJoin).unwrap_or(plan))
    }

    fn name(&self) -> &str {
        "join_key_row_filter"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Where a scan's rows go before they meet the nearest hash join above it, which is what
/// decides whether filtering them while decoding pays.
#[derive(Clone, Copy, PartialEq)]
enum Path {
    /// No join above: no join key filter will come.
    NoJoin,
    /// Straight into the join (through projections, repartitions, …): the join drops the
    /// rows it cannot match about as cheaply as the decoder would, and when they are
    /// scattered (TPC-H Q9, Q11, Q22: 5–13% of unsorted keys kept) filtering them in the
    /// decoder only adds work.
    IntoJoin,
    /// Through an aggregation first: every row dropped in the decoder is a row not
    /// aggregated (Q17: 6 M rows grouped by part, of which 6 K are joined).
    ThroughAggregate,
}

impl Path {
    /// The path of `plan`'s children, given that of `plan`.
    fn below(self, plan: &Arc<dyn ExecutionPlan>) -> Path {
        if plan.name().contains("Join") {
            Path::IntoJoin
        } else if plan.downcast_ref::<AggregateExec>().is_some() && self != Path::NoJoin {
            Path::ThroughAggregate
        } else {
            self
        }
    }
}

/// The plan with row filtering enabled in the predicate-free Parquet scans whose rows are
/// aggregated before they meet a hash join, or `None` when nothing changed. A node that
/// refuses its new children (the Delta scan of a table with deletion vectors insists on
/// its own Parquet source) keeps its subtree as it was.
fn rewrite(plan: &Arc<dyn ExecutionPlan>, path: Path) -> Option<Arc<dyn ExecutionPlan>> {
    if let Some(scan) = plan.downcast_ref::<DataSourceExec>() {
        return (path == Path::ThroughAggregate)
            .then(|| filtering_scan(scan))
            .flatten();
    }
    let children = plan.children();
    let below = path.below(plan);
    let rewritten: Vec<Option<Arc<dyn ExecutionPlan>>> =
        children.iter().map(|child| rewrite(child, below)).collect();
    if rewritten.iter().all(Option::is_none) {
        return None;
    }
    let children = children
        .into_iter()
        .zip(rewritten)
        .map(|(old, new)| new.unwrap_or_else(|| Arc::clone(old)))
        .collect();
    replace_children_if_necessary(Arc::clone(plan), children).ok()
}

/// A copy of a Parquet scan that will filter rows by the filters pushed into it later, if
/// it has no predicate now.
fn filtering_scan(scan: &DataSourceExec) -> Option<Arc<dyn ExecutionPlan>> {
    let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
    let parquet = config.file_source.downcast_ref::<ParquetSource>()?;
    if FileSource::filter(parquet).is_some() {
        return None;
    }
    let mut config = config.clone();
    config.file_source = Arc::new(parquet.clone().with_pushdown_filters(true));
    Some(DataSourceExec::from_data_source(config))
}

/// The variable that sets DataFusion's Parquet filter pushdown for every scan. When the
/// environment sets it, to either value, it decides alone (and DataFusion's own behaviour
/// can be measured beside this rule's).
const PUSHDOWN_VARIABLE: &str = "DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS";

/// DataFusion's default physical optimizer with [`JoinKeyRowFilter`] placed just before the
/// filter pushdown that runs after every other rule, unless [`PUSHDOWN_VARIABLE`] is set.
pub(crate) fn with_join_key_filters(builder: SessionStateBuilder) -> SessionStateBuilder {
    if std::env::var_os(PUSHDOWN_VARIABLE).is_some() {
        return builder;
    }
    let mut rules = PhysicalOptimizer::new().rules;
    let last_pushdown = rules
        .iter()
        .rposition(|rule| rule.name() == FilterPushdown::new_post_optimization().name())
        .unwrap_or(rules.len());
    rules.insert(last_pushdown, Arc::new(JoinKeyRowFilter));
    builder.with_physical_optimizer_rules(rules)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{session_config, session_context};

    /// `EXPLAIN ANALYZE` of `query` over a 200,000-row Parquet table `probe` and a 10-row
    /// one, `build`.
    async fn analyze(query: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let ctx = session_context(session_config());
        for (name, rows) in [("probe", 200_000), ("build", 10)] {
            let path = dir.path().join(format!("{name}.parquet"));
            let copy = format!(
                "COPY (SELECT value * 7 % {rows} + value % 3 AS k, value AS v \
                 FROM generate_series(1, {rows})) TO '{}' STORED AS PARQUET",
                path.display()
            );
            ctx.sql(&copy).await.unwrap().collect().await.unwrap();
            let path = path.to_string_lossy().into_owned();
            ctx.register_parquet(name, &path, Default::default())
                .await
                .unwrap();
        }
        let batches = ctx
            .sql(&format!("EXPLAIN ANALYZE {query}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
    }

    /// The rows the probe side's scan dropped while decoding, as `EXPLAIN ANALYZE` prints
    /// them (`None` if the plan has no such scan).
    fn probe_rows_pruned(plan: &str) -> Option<String> {
        let probe = plan.lines().find(|line| line.contains("probe.parquet"))?;
        let rest = probe.split("pushdown_rows_pruned=").nth(1)?;
        rest.split(',').next().map(str::to_owned)
    }

    #[tokio::test]
    async fn rows_aggregated_before_the_join_are_dropped_while_decoding() {
        let plan = analyze(
            "SELECT count(*) FROM (SELECT k, sum(v) AS s FROM probe GROUP BY k) p \
             JOIN build ON p.k = build.k",
        )
        .await;
        assert!(plan.contains("predicate=DynamicFilter"), "{plan}");
        assert!(probe_rows_pruned(&plan).is_some(), "{plan}");
        assert_ne!(probe_rows_pruned(&plan).as_deref(), Some("0"), "{plan}");
    }

    #[tokio::test]
    async fn rows_going_straight_into_the_join_are_left_to_it() {
        let plan = analyze("SELECT sum(probe.v) FROM probe JOIN build ON probe.k = build.k").await;
        assert_eq!(probe_rows_pruned(&plan).as_deref(), Some("0"), "{plan}");
    }

    #[tokio::test]
    async fn a_scan_with_its_own_predicate_keeps_filtering_after_decoding() {
        let plan = analyze(
            "SELECT count(*) FROM (SELECT k, sum(v) AS s FROM probe WHERE v > 10 GROUP BY k) p \
             JOIN build ON p.k = build.k",
        )
        .await;
        assert_eq!(probe_rows_pruned(&plan).as_deref(), Some("0"), "{plan}");
    }
}
