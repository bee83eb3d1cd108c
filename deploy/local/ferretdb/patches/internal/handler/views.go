// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package handler

// gridstream patch: views without a pipeline (aliases). This whole file is gridstream's (no
// upstream counterpart). FerretDB 1.24.2 refuses `create` with viewOn/pipeline; gridstream gives
// each projection a stable name that reads its active build, which on MongoDB is a view with an
// empty pipeline re-pointed by collMod.
//
// As in MongoDB, a database's views are documents {_id: "<db>.<view>", viewOn, pipeline: []} in
// its `system.views` collection (an ordinary backend collection; listCollections hides it and
// lists the views). Reads (find, aggregate, count, distinct, explain) of a view read the
// collection at the end of its chain of views; writes and index commands on a view are refused
// with CommandNotSupportedOnView (166), as MongoDB does. A non-empty pipeline stays
// NotImplemented.
//
// Every find looks its collection name up, so the views of a database are read once and kept in
// memory; create, collMod and drop of a view, drop of system.views and dropDatabase invalidate
// the database's entry. Direct writes to system.views are refused (InvalidNamespace, as MongoDB
// does), so nothing else changes it behind the cache's back.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/internal/backends"
	"github.com/FerretDB/FerretDB/internal/handler/handlererrors"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// viewsCollection holds a database's view definitions, as in MongoDB.
const viewsCollection = "system.views"

// maxViewDepth is MongoDB's bound on a chain of views.
const maxViewDepth = 20

// viewCatalog caches each database's views: view name -> the name it is defined on.
// The zero value is ready to use.
type viewCatalog struct {
	mu     sync.RWMutex
	loaded map[string]map[string]string
	// generation of each database's entry: a load that raced an invalidation is not kept.
	generation map[string]uint64

	// ddl serialises create, collMod and drop of views, so that the checks each makes
	// (name free, no cycle) still hold when it writes.
	ddl sync.Mutex
}

// views returns the database's views (never modified by the caller).
func (vc *viewCatalog) views(ctx context.Context, db backends.Database, dbName string) (map[string]string, error) {
	vc.mu.RLock()
	views, ok := vc.loaded[dbName]
	generation := vc.generation[dbName]
	vc.mu.RUnlock()

	if ok {
		return views, nil
	}

	views, err := loadViews(ctx, db)
	if err != nil {
		return nil, err
	}

	vc.mu.Lock()
	defer vc.mu.Unlock()

	if vc.generation[dbName] == generation {
		if vc.loaded == nil {
			vc.loaded = map[string]map[string]string{}
		}

		vc.loaded[dbName] = views
	}

	return views, nil
}

// invalidate forgets the database's views; call it after system.views changed.
func (vc *viewCatalog) invalidate(dbName string) {
	vc.mu.Lock()
	defer vc.mu.Unlock()

	delete(vc.loaded, dbName)

	if vc.generation == nil {
		vc.generation = map[string]uint64{}
	}

	vc.generation[dbName]++
}

// loadViews reads a database's view definitions from system.views.
func loadViews(ctx context.Context, db backends.Database) (map[string]string, error) {
	c, err := db.Collection(viewsCollection)
	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	res, err := c.Query(ctx, nil)
	if err != nil {
		return nil, lazyerrors.Error(err)
	}

	defer res.Iter.Close()

	views := map[string]string{}

	for {
		_, doc, err := res.Iter.Next()
		if errors.Is(err, iterator.ErrIteratorDone) {
			return views, nil
		}

		if err != nil {
			return nil, lazyerrors.Error(err)
		}

		id, _ := doc.Get("_id")
		viewOn, _ := doc.Get("viewOn")

		ns, ok1 := id.(string)
		on, ok2 := viewOn.(string)
		_, name, ok3 := strings.Cut(ns, ".")

		if !ok1 || !ok2 || !ok3 {
			continue // not a definition this patch writes
		}

		views[name] = on
	}
}

// viewID is a view's _id in system.views.
func viewID(dbName, name string) string {
	return dbName + "." + name
}

// isView tells whether name is a view of the database.
func (h *Handler) isView(ctx context.Context, db backends.Database, dbName, name string) (bool, error) {
	views, err := h.views.views(ctx, db, dbName)
	if err != nil {
		return false, err
	}

	_, ok := views[name]

	return ok, nil
}

// readTarget returns the collection a read of name reads: name itself, or, for a view, the
// collection at the end of its chain of views (which may not exist: then the read finds nothing,
// as in MongoDB).
func (h *Handler) readTarget(ctx context.Context, db backends.Database, dbName, name string) (string, error) {
	views, err := h.views.views(ctx, db, dbName)
	if err != nil {
		return "", err
	}

	for range maxViewDepth + 1 {
		on, ok := views[name]
		if !ok {
			return name, nil
		}

		name = on
	}

	// create and collMod refuse cycles; a chain this long was written by hand
	return "", handlererrors.NewCommandErrorMsg(
		handlererrors.ErrViewDepthLimitExceeded,
		fmt.Sprintf("View depth too deep or view cycle detected; maximum depth is %d", maxViewDepth),
	)
}

// refuseWrite refuses a write to a view (as MongoDB: 166) and any direct write to system.views
// (as MongoDB: InvalidNamespace), which would change views behind the cache.
func (h *Handler) refuseWrite(ctx context.Context, db backends.Database, dbName, name, command string) error {
	if name == viewsCollection {
		return handlererrors.NewCommandErrorMsgWithArgument(
			handlererrors.ErrInvalidNamespace,
			fmt.Sprintf("cannot write to '%s.%s'", dbName, name),
			command,
		)
	}

	return h.refuseOnView(ctx, db, dbName, name, command)
}

// refuseOnView refuses a command MongoDB refuses on a view (166): writes, index commands.
func (h *Handler) refuseOnView(ctx context.Context, db backends.Database, dbName, name, command string) error {
	view, err := h.isView(ctx, db, dbName, name)
	if err != nil {
		return lazyerrors.Error(err)
	}

	if view {
		return handlererrors.NewCommandErrorMsgWithArgument(
			handlererrors.ErrCommandNotSupportedOnView,
			fmt.Sprintf("Namespace %s.%s is a view, not a collection", dbName, name),
			command,
		)
	}

	return nil
}

// viewDefinition reads viewOn and pipeline of a create or collMod command.
func viewDefinition(document *types.Document, command string) (string, error) {
	v, _ := document.Get("viewOn")

	viewOn, ok := v.(string)
	if !ok {
		if v == nil {
			return "", handlererrors.NewCommandErrorMsgWithArgument(
				handlererrors.ErrInvalidOptions,
				"'pipeline' requires 'viewOn' to also be specified",
				command,
			)
		}

		return "", handlererrors.NewCommandErrorMsgWithArgument(
			handlererrors.ErrTypeMismatch,
			fmt.Sprintf("BSON field '%s.viewOn' is the wrong type, expected type 'string'", command),
			command,
		)
	}

	if viewOn == "" {
		return "", handlererrors.NewCommandErrorMsgWithArgument(
			handlererrors.ErrBadValue,
			"'viewOn' cannot be empty",
			command,
		)
	}

	if p, _ := document.Get("pipeline"); p != nil {
		pipeline, ok := p.(*types.Array)
		if !ok {
			return "", handlererrors.NewCommandErrorMsgWithArgument(
				handlererrors.ErrTypeMismatch,
				fmt.Sprintf("BSON field '%s.pipeline' is the wrong type, expected type 'array'", command),
				command,
			)
		}

		if pipeline.Len() > 0 {
			return "", handlererrors.NewCommandErrorMsgWithArgument(
				handlererrors.ErrNotImplemented,
				"views with a non-empty pipeline are not implemented (FerretDB patched by gridstream "+
					"supports views with an empty pipeline only)",
				command,
			)
		}
	}

	return viewOn, nil
}

// checkNoCycle refuses a definition of name on viewOn whose chain leads back to name.
func checkNoCycle(views map[string]string, dbName, name, viewOn string) error {
	at := viewOn

	for range maxViewDepth {
		if at == name {
			return handlererrors.NewCommandErrorMsg(
				handlererrors.ErrGraphContainsCycle,
				fmt.Sprintf("View cycle detected: %s.%s is defined on itself through %s.%s", dbName, name, dbName, viewOn),
			)
		}

		on, ok := views[at]
		if !ok {
			return nil
		}

		at = on
	}

	return handlererrors.NewCommandErrorMsg(
		handlererrors.ErrViewDepthLimitExceeded,
		fmt.Sprintf("View depth too deep or view cycle detected; maximum depth is %d", maxViewDepth),
	)
}

// viewDocument is a view's definition as stored in system.views.
func viewDocument(dbName, name, viewOn string) *types.Document {
	return must.NotFail(types.NewDocument(
		"_id", viewID(dbName, name),
		"viewOn", viewOn,
		"pipeline", types.MakeArray(0),
	))
}

// createView handles `create` with viewOn.
func (h *Handler) createView(ctx context.Context, db backends.Database, dbName, name string, document *types.Document) error {
	viewOn, err := viewDefinition(document, "create")
	if err != nil {
		return err
	}

	for _, option := range []string{"capped", "size", "max"} {
		if document.Has(option) {
			return handlererrors.NewCommandErrorMsgWithArgument(
				handlererrors.ErrInvalidOptions,
				fmt.Sprintf("option not supported on a view: %s", option),
				"create",
			)
		}
	}

	if name == viewsCollection || strings.HasPrefix(name, "system.") {
		return handlererrors.NewCommandErrorMsgWithArgument(
			handlererrors.ErrInvalidNamespace,
			fmt.Sprintf("Invalid view name: %s", name),
			"create",
		)
	}

	if _, err = db.Collection(name); err != nil {
		if backends.ErrorCodeIs(err, backends.ErrorCodeCollectionNameIsInvalid) {
			return handlererrors.NewCommandErrorMsgWithArgument(
				handlererrors.ErrInvalidNamespace,
				fmt.Sprintf("Invalid collection name: %s", name),
				"create",
			)
		}

		return lazyerrors.Error(err)
	}

	h.views.ddl.Lock()
	defer h.views.ddl.Unlock()

	views, err := h.views.views(ctx, db, dbName)
	if err != nil {
		return lazyerrors.Error(err)
	}

	exists := func() error {
		return handlererrors.NewCommandErrorMsgWithArgument(
			handlererrors.ErrNamespaceExists,
			fmt.Sprintf("Collection %s.%s already exists.", dbName, name),
			"create",
		)
	}

	if _, ok := views[name]; ok {
		return exists()
	}

	list, err := db.ListCollections(ctx, &backends.ListCollectionsParams{Name: name})
	if err != nil {
		return lazyerrors.Error(err)
	}

	if len(list.Collections) > 0 {
		return exists()
	}

	if err = checkNoCycle(views, dbName, name, viewOn); err != nil {
		return err
	}

	c, err := db.Collection(viewsCollection)
	if err != nil {
		return lazyerrors.Error(err)
	}

	_, err = c.InsertAll(ctx, &backends.InsertAllParams{Docs: []*types.Document{viewDocument(dbName, name, viewOn)}})

	h.views.invalidate(dbName)

	switch {
	case err == nil:
		return nil
	case backends.ErrorCodeIs(err, backends.ErrorCodeInsertDuplicateID):
		return exists()
	default:
		return lazyerrors.Error(err)
	}
}

// modifyView handles `collMod` with viewOn (and an empty pipeline): the view reads viewOn from
// now on.
func (h *Handler) modifyView(ctx context.Context, db backends.Database, dbName, name string, document *types.Document) error {
	viewOn, err := viewDefinition(document, "collMod")
	if err != nil {
		return err
	}

	h.views.ddl.Lock()
	defer h.views.ddl.Unlock()

	views, err := h.views.views(ctx, db, dbName)
	if err != nil {
		return lazyerrors.Error(err)
	}

	if _, ok := views[name]; !ok {
		list, err := db.ListCollections(ctx, &backends.ListCollectionsParams{Name: name})
		if err != nil {
			return lazyerrors.Error(err)
		}

		if len(list.Collections) > 0 {
			return handlererrors.NewCommandErrorMsgWithArgument(
				handlererrors.ErrInvalidOptions,
				"option only supported on a view: viewOn",
				"collMod",
			)
		}

		return handlererrors.NewCommandErrorMsgWithArgument(
			handlererrors.ErrNamespaceNotFound,
			fmt.Sprintf("ns does not exist: %s.%s", dbName, name),
			"collMod",
		)
	}

	if err = checkNoCycle(views, dbName, name, viewOn); err != nil {
		return err
	}

	c, err := db.Collection(viewsCollection)
	if err != nil {
		return lazyerrors.Error(err)
	}

	_, err = c.UpdateAll(ctx, &backends.UpdateAllParams{Docs: []*types.Document{viewDocument(dbName, name, viewOn)}})

	h.views.invalidate(dbName)

	if err != nil {
		return lazyerrors.Error(err)
	}

	return nil
}

// dropView deletes a view's definition, if name is a view; it tells whether it was one.
func (h *Handler) dropView(ctx context.Context, db backends.Database, dbName, name string) (bool, error) {
	if name == viewsCollection {
		// dropping the definitions themselves: drop the collection, forget the views
		defer h.views.invalidate(dbName)
		return false, nil
	}

	view, err := h.isView(ctx, db, dbName, name)
	if err != nil || !view {
		return false, err
	}

	h.views.ddl.Lock()
	defer h.views.ddl.Unlock()

	c, err := db.Collection(viewsCollection)
	if err != nil {
		return false, lazyerrors.Error(err)
	}

	_, err = c.DeleteAll(ctx, &backends.DeleteAllParams{IDs: []any{viewID(dbName, name)}})

	h.views.invalidate(dbName)

	if err != nil {
		return false, lazyerrors.Error(err)
	}

	return true, nil
}

// listedViews returns listCollections' entries for the database's views, sorted by name.
func (h *Handler) listedViews(ctx context.Context, db backends.Database, dbName string) ([]*types.Document, error) {
	views, err := h.views.views(ctx, db, dbName)
	if err != nil {
		return nil, err
	}

	names := make([]string, 0, len(views))
	for name := range views {
		names = append(names, name)
	}

	slices.Sort(names)

	res := make([]*types.Document, 0, len(names))

	for _, name := range names {
		res = append(res, must.NotFail(types.NewDocument(
			"name", name,
			"type", "view",
			"options", must.NotFail(types.NewDocument(
				"viewOn", views[name],
				"pipeline", types.MakeArray(0),
			)),
			"info", must.NotFail(types.NewDocument("readOnly", true)),
		)))
	}

	return res, nil
}
